import type { Command } from 'commander';
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
    .action((file: string, f: { json?: boolean }) => {
      const s = summarizeModel(readModel(file));
      if (f.json) return printJson(s);
      // Every name, producer, doc string and metadata entry comes from the (untrusted) file.
      process.stdout.write(formatSummary(safeDeep(s)));
    });
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
  row('MACs', `${formatCount(s.macs)} (${human(s.macs)}) per image${s.macsComplete ? '' : ', a lower bound: some shapes are not recorded in the file'}`);
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
