import type { Command } from 'commander';
import { prepareModel } from '@effnet/pipeline';
import { checkOutputs } from '../check-outputs.js';
import { formatCount } from '../output.js';
import { addModelOptions, prepareOptions, type ModelFlags } from './common.js';

export function register(program: Command): void {
  addModelOptions(
    program
      .command('export')
      .description('write a model as an ONNX file')
      .argument('<model>', "model id (see 'effnet list')")
      .option('-o, --out <file>', 'output path (default: <model>.onnx)')
      .option('--external-data', 'store weights in <out>.data beside the model (automatic above 2 GB)')
      .option('-f, --force', 'overwrite an existing output file')
      .option('--no-space-check', "write even if the target's file system reports less free space than the model needs")
      .option('--json', 'print a JSON summary'),
    { export: true },
  ).action(async (model: string, f: ModelFlags & { out?: string; externalData?: boolean; force?: boolean; spaceCheck?: boolean; json?: boolean }) => {
    const t0 = performance.now();
    checkOutputs([{ flag: '--out', path: f.out }], { force: !!f.force });
    const p = prepareModel(model, prepareOptions(f));
    const out = f.out ?? `${p.label}.onnx`;
    // Async so that Ctrl-C during a long write is handled at once: no file at `out`, no temp file.
    const r = await p.writeAsync(out, { overwrite: !!f.force, externalData: f.externalData ? true : 'auto', checkFreeSpace: f.spaceCheck !== false });
    const seconds = (performance.now() - t0) / 1000;
    const summary = { model: p.label, path: r.path, bytes: r.bytes, dataPath: r.dataPath, dataBytes: r.dataBytes, opset: p.opset, params: p.stats.params, macs: p.stats.macs, seconds };
    if (f.json) return console.log(JSON.stringify(summary, null, 2));
    const data = r.dataPath ? ` + ${r.dataPath} (${formatCount(r.dataBytes!)} bytes)` : '';
    console.error(`wrote ${r.path} (${formatCount(r.bytes)} bytes)${data}: ${p.label}, opset ${p.opset}, ${formatCount(p.stats.params)} params, ${seconds.toFixed(2)} s`);
  });
}
