/** `effnet bench --compare table3`: the paper's Table 3 from graph counts (no onnxruntime). */
import { table3, TABLE3_CITATION } from '@effnet/bench';
import { UsageError } from '../errors.js';
import { printJson, renderTable } from '../output.js';

const pct = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}%`;

export function printTable3(models: readonly string[], f: { readonly json?: boolean; readonly precision?: unknown; readonly accuracyFrom?: string }): void {
  if (models.length > 0) throw new UsageError(`--compare table3 builds its own models; leave out ${models.join(' ')}`);
  if (f.precision !== undefined) throw new UsageError('--precision with --compare table3: the table counts MACs, it runs nothing');
  if (f.accuracyFrom !== undefined) throw new UsageError("--accuracy-from with --compare table3: the table shows the paper's top-1");
  const rows = table3();
  if (f.json) {
    printJson(rows.map(({ options, ...r }) => ({ ...r, flags: options })));
    return;
  }
  console.log(
    renderTable(
      ['network', 'scaling', 'res', 'params', 'MACs', 'paper FLOPS', 'Δ', 'paper top-1'],
      rows.map((r) => [
        r.network,
        r.scaling,
        r.resolution,
        `${(r.params / 1e6).toFixed(1)}M`,
        `${(r.macs / 1e9).toFixed(2)}B`,
        `${(r.paperFlops / 1e9).toFixed(1)}B`,
        pct(r.diff),
        `${r.paperTop1.toFixed(1)}%`,
      ]),
      { colAligns: ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'] },
    ),
  );
  console.log(`Paper figures: ${TABLE3_CITATION} (FLOPS there are multiply-adds, printed to 0.1B). MACs and params: counted from the graphs effnet builds.`);
  console.log('How each row is built (effnet info ID with these flags):');
  for (const r of rows) console.log(`  ${r.network} ${r.scaling}: ${r.model} ${r.definition === r.model ? '' : r.definition}`.trimEnd());
}
