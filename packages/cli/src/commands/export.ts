import type { Command } from 'commander';
import { LATENCY_ONLY_NOTE, prepareModel, type Int8Summary } from '@effnet/pipeline';
import { safeText } from '../text.js';
import { checkOutputs } from '../check-outputs.js';
import { formatCount } from '../output.js';
import { addModelOptions, prepareOptions, type ModelFlags } from './common.js';
import { addInt8Options, buildInt8, int8Options, type Int8Flags } from './int8.js';

export function register(program: Command): void {
  const cmd = addModelOptions(
    program
      .command('export')
      .description('write a model as an ONNX file')
      .argument('<model>', "model id (see 'effnet list')")
      .option('-o, --out <file>', 'output path (default: <model>.onnx)')
      .option('-f, --force', 'overwrite an existing output file')
      .option('--no-space-check', "write even if the target's file system reports less free space than the model needs")
      .option('--json', 'print a JSON summary'),
    { export: true },
  );
  addInt8Options(cmd).action(async (model: string, f: ModelFlags & Int8Flags & { out?: string; externalData?: boolean; force?: boolean; spaceCheck?: boolean; json?: boolean }) => {
    const t0 = performance.now();
    checkOutputs([{ flag: '--out', path: f.out }], { force: !!f.force });
    const int8 = int8Options(f, !!f.int8);
    const q = int8 ? await buildInt8(model, prepareOptions(f), int8) : undefined;
    const p = q ?? prepareModel(model, prepareOptions(f));
    if (q) reportInt8(q.int8);
    const out = f.out ?? `${p.label}.onnx`;
    // Async so that Ctrl-C during a long write is handled at once: no file at `out`, no temp file.
    const r = await p.writeAsync(out, { overwrite: !!f.force, externalData: f.externalData ? true : 'auto', checkFreeSpace: f.spaceCheck !== false });
    const seconds = (performance.now() - t0) / 1000;
    const summary = {
      model: p.label,
      path: r.path,
      bytes: r.bytes,
      dataPath: r.dataPath,
      dataBytes: r.dataBytes,
      opset: p.opset,
      params: p.stats.params,
      macs: p.stats.macs,
      seconds,
      ...(q ? { precision: 'int8', int8: { ...q.int8, files: undefined } } : {}),
    };
    if (f.json) return console.log(JSON.stringify(summary, null, 2));
    const data = r.dataPath ? ` + ${r.dataPath} (${formatCount(r.dataBytes!)} bytes)` : '';
    console.error(`wrote ${r.path} (${formatCount(r.bytes)} bytes)${data}: ${p.label}, opset ${p.opset}, ${formatCount(p.stats.params)} params, ${seconds.toFixed(2)} s`);
  });
}

/** One line on stderr about the calibration (and a warning for skipped images or the built-in input). */
function reportInt8(s: Int8Summary): void {
  if (s.latencyOnly) console.error(`warning: ${LATENCY_ONLY_NOTE}`);
  else console.error(`int8: ${s.method} ranges of ${s.tensors} tensors from ${s.images} image${s.images === 1 ? '' : 's'} of ${safeText(s.source)}, ${s.seconds.toFixed(1)} s`);
  if (s.failed.length)
    console.error(
      `warning: ${s.failed.length} calibration image${s.failed.length === 1 ? '' : 's'} could not be decoded and ${s.failed.length === 1 ? 'was' : 'were'} skipped (first: ${safeText(s.failed[0]!.file)}: ${safeText(s.failed[0]!.error)})`,
    );
}
