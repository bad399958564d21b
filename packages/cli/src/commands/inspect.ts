import { InvalidArgumentError, type Command } from 'commander';
import { MAX_RESOLUTION } from '@effnet/preprocess';
import { formatShape } from '@effnet/graph-builder';
import { readModel, summarizeModel, type ModelSummary, type TensorSummary } from '@effnet/onnx-export';
import { formatCount, human, printJson, renderTable } from '../output.js';
import { safeDeep } from '../text.js';

export function register(program: Command): void {
  program
    .command('inspect')
    .description('summarize any ONNX file: opset, inputs/outputs, operator histogram, parameters, metadata')
    .argument('<file>', 'an .onnx file (written by effnet or any other tool)')
    .option('--json', 'machine-readable output')
    .option('--size <HxW>', 'for a file whose input size is symbolic (--dynamic-size, --embed-preprocessing): count MACs at this H×W (default: effnet.resolution)', parseSize)
    .action((file: string, f: { json?: boolean; size?: [number, number] }) => {
      const m = readModel(file);
      const r = Number(m.metadata['effnet.resolution']);
      const size = f.size ?? (Number.isInteger(r) && r > 0 ? ([r, r] as const) : undefined);
      const s = summarizeModel(m, size ? { size } : {});
      if (f.json) return printJson(s);
      // Every name, producer, doc string and metadata entry comes from the (untrusted) file.
      process.stdout.write(formatSummary(safeDeep(s)));
    });
}

/** `--size 480x640` → [480, 640] (H, W; each 1..MAX_RESOLUTION). */
export function parseSize(text: string): [number, number] {
  const m = /^(\d+)x(\d+)$/i.exec(text.trim());
  const hw = m ? [Number(m[1]), Number(m[2])] : [];
  if (!m || hw.some((d) => !(d >= 1 && d <= MAX_RESOLUTION))) throw new InvalidArgumentError(`--size expects HxW with each side 1..${MAX_RESOLUTION} (e.g. 480x640), got '${text}'`);
  return [hw[0]!, hw[1]!];
}

const io = (t: TensorSummary): string => `${t.name}  ${t.dtype} ${formatShape(t.shape)}`;

export function formatSummary(s: ModelSummary): string {
  const lines: string[] = [];
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(10)} ${v}`);
  lines.push(`${s.path}  (${formatCount(s.fileBytes)} bytes${s.externalData.length ? `, external data: ${s.externalData.join(', ')}` : ''})`);
  const others = s.opsets.filter((o) => o.domain !== '' && o.domain !== 'ai.onnx').map((o) => `${o.domain} ${o.version}`);
  row('format', `ONNX IR version ${s.irVersion}, opset ${s.opset}${others.length ? ` (+ ${others.join(', ')})` : ''}`);
  row('producer', `${s.producer.name || '(none)'} ${s.producer.version}`.trimEnd());
  row('graph', `${s.graphName}${s.docString ? `: ${s.docString}` : ''}`);
  s.inputs.forEach((t, i) => row(i ? '' : 'inputs', io(t)));
  if (!s.inputs.length) row('inputs', '(none)');
  s.outputs.forEach((t, i) => row(i ? '' : 'outputs', io(t)));
  row('params', `${formatCount(s.params)} (${human(s.params)}) in ${formatCount(s.initializers)} initializers`);
  row('weights', s.weights.length ? s.weights.map((w) => `${w.dtype} ${formatCount(w.bytes)} bytes`).join(', ') : '(none)');
  const at = s.macsAt ? ` at ${s.macsAt[0]}x${s.macsAt[1]} (the input size is dynamic; --size HxW for another)` : s.dynamicSize ? ' (the input size is dynamic: give --size HxW)' : '';
  row('MACs', `${formatCount(s.macs)} (${human(s.macs)}) per image${at}${s.macsComplete ? '' : ', a lower bound: some shapes are not recorded in the file'}`);
  row('nodes', formatCount(s.nodes));
  if (s.ops.length)
    lines.push(
      renderTable(
        ['op', 'count'],
        s.ops.map((o) => [o.op, o.count]),
        { compact: true, colAligns: ['left', 'right'] },
      ),
    );
  const meta = Object.entries(s.metadata);
  if (meta.length) {
    lines.push('  metadata');
    for (const [k, v] of meta) lines.push(`    ${k} = ${v}`);
  }
  return `${lines.join('\n')}\n`;
}
