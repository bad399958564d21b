/**
 * bench --precision fp32,fp16,int8: each model id built once per precision (BatchNorm folded in all,
 * so that only the precision differs) into a scratch folder, measured in the same run as files, and
 * reported side by side with the speed-up over float32 and the file size.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelResult } from '@effnet/bench';
import { isOnnxPath, LATENCY_ONLY_NOTE, prepareModel, type PrepareOptions } from '@effnet/pipeline';
import { makeTempDir, writeFileAtomic } from '@effnet/safe-fs';
import { InvalidArgumentError } from 'commander';
import { UsageError } from '../errors.js';
import { renderTable, say } from '../output.js';
import { buildInt8, type Int8Flags, int8Options } from './int8.js';

export const PRECISIONS = ['fp32', 'fp16', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** --precision list parser: known names, no repeats. */
export function precisionList(v: string): Precision[] {
  const items = v.split(',').map((s) => s.trim());
  for (const p of items) if (!(PRECISIONS as readonly string[]).includes(p)) throw new InvalidArgumentError(`--precision expects a comma-separated list of ${PRECISIONS.join(', ')}, got '${p}'`);
  if (new Set(items).size !== items.length) throw new InvalidArgumentError(`--precision ${v}: a precision is listed twice`);
  return items as Precision[];
}

export interface PrecisionFile {
  readonly path: string;
  readonly model: string;
  readonly precision: Precision;
  /** int8 calibrated on the built-in input. */
  readonly latencyOnly: boolean;
  /** Label of the row: 'efficientnet-b0 int8' (+ ', latency only'). */
  readonly label: string;
}

export interface PrecisionBuild {
  readonly dir: string;
  readonly files: readonly PrecisionFile[];
  cleanup(): void;
}

/** Builds every (model, precision) into a scratch folder; int8 calibrates once per model. */
export async function buildPrecisionFiles(models: readonly string[], precisions: readonly Precision[], prepare: PrepareOptions, f: Int8Flags): Promise<PrecisionBuild> {
  for (const m of models) if (isOnnxPath(m)) throw new UsageError(`--precision builds each precision from a model id; ${m} is an .onnx file`);
  if (f.fp16 || f.fp16Io) throw new UsageError('--precision with --fp16: list fp16 in --precision instead');
  const int8 = int8Options(f, precisions.includes('int8'), { latencyDefault: true, hint: 'list int8 in --precision' });
  // Removed on exit and on Ctrl-C / SIGTERM / SIGHUP (safe-fs), and by the next run if this one was killed.
  const scratch = makeTempDir('effnet-precision-');
  const dir = scratch.path;
  const files: PrecisionFile[] = [];
  try {
    for (const model of models)
      for (const precision of precisions) {
        // Named for the progress lines: '<model>.<precision>.onnx' (a model id is a safe file name).
        const path = join(dir, `${files.length}-${model.replace(/[^A-Za-z0-9._-]/g, '_')}.${precision}.onnx`);
        const o: PrepareOptions = { ...prepare, batch: 'dynamic', foldBn: true };
        let latencyOnly = false;
        if (precision === 'int8') {
          process.stderr.write(`${model} int8: calibrating${int8!.calibration.kind === 'builtin' ? ' on the built-in input (latency only)' : ` on ${int8!.calibration.dir}`}\n`);
          const q = await buildInt8(model, o, int8!);
          latencyOnly = q.int8.latencyOnly;
          q.write(path);
        } else prepareModel(model, { ...o, ...(precision === 'fp16' ? { fp16: true } : {}) }).write(path);
        files.push({ path, model, precision, latencyOnly, label: `${model} ${precision}${latencyOnly ? ', latency only' : ''}` });
      }
  } catch (e) {
    scratch.remove();
    throw e;
  }
  return { dir, files, cleanup: () => scratch.remove() };
}

export interface PrecisionRow {
  readonly model: string;
  readonly precision: Precision;
  readonly batch: number;
  readonly p50Ms: number;
  readonly throughput: number;
  readonly fileBytes: number;
  /** fp32 p50 ÷ this p50 (same run, same batch); null without an fp32 row. */
  readonly speedupVsFp32: number | null;
  readonly sizeVsFp32: number | null;
  readonly note?: string;
}

/** Results relabelled by precision, and the side-by-side rows. */
export function precisionResults(results: readonly ModelResult[], build: PrecisionBuild): { results: ModelResult[]; rows: PrecisionRow[] } {
  const byPath = new Map(build.files.map((x) => [x.path, x]));
  const relabelled = results.map((r) => {
    const x = byPath.get(r.ref);
    return x
      ? {
          ...r,
          model: x.model,
          label: x.label,
          ref: `${x.model} (${x.precision})`,
          precision: x.precision,
          paperComparable: r.paperComparable && x.precision === 'fp32',
          ...(x.latencyOnly ? { note: LATENCY_ONLY_NOTE } : {}),
        }
      : r;
  });
  const rows: PrecisionRow[] = [];
  for (const r of results) {
    const x = byPath.get(r.ref);
    if (!x) continue;
    const fp32 = results.find((b) => b.batch === r.batch && byPath.get(b.ref)?.model === x.model && byPath.get(b.ref)?.precision === 'fp32');
    rows.push({
      model: x.model,
      precision: x.precision,
      batch: r.batch,
      p50Ms: r.latencyMs.p50,
      throughput: r.throughput,
      fileBytes: r.modelBytes,
      speedupVsFp32: fp32 ? fp32.latencyMs.p50 / r.latencyMs.p50 : null,
      sizeVsFp32: fp32 ? r.modelBytes / fp32.modelBytes : null,
      ...(x.latencyOnly ? { note: LATENCY_ONLY_NOTE } : {}),
    });
  }
  return { results: relabelled, rows };
}

const MB = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
const x = (v: number | null) => (v === null ? '—' : `${v.toFixed(2)}x`);

function cells(r: PrecisionRow): string[] {
  return [r.model, r.precision + (r.note ? ' *' : ''), String(r.batch), r.p50Ms.toFixed(2), r.throughput.toFixed(1), MB(r.fileBytes), x(r.speedupVsFp32), x(r.sizeVsFp32)];
}
const HEAD = ['model', 'precision', 'batch', 'p50 ms', 'img/s', 'file', 'speed-up vs fp32', 'size vs fp32'];
const FOOT = (rows: readonly PrecisionRow[]) => [
  'Speed-up = fp32 p50 latency ÷ this p50, measured one after the other in this run (BatchNorm folded in every precision).',
  ...(rows.some((r) => r.note) ? [`* ${LATENCY_ONLY_NOTE} (give --calibration-data <dir> for a real calibration).`] : []),
];

export function printPrecisionTable(rows: readonly PrecisionRow[]): void {
  console.log(renderTable(HEAD, rows.map(cells)));
  for (const l of FOOT(rows)) say(l);
}

/** Appends the side-by-side table to results.md (the report writer knows nothing of precisions). */
export function appendPrecisionMarkdown(path: string, rows: readonly PrecisionRow[]): void {
  const md = [
    '',
    '## Precisions side by side',
    '',
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => `| ${cells(r).join(' | ')} |`),
    '',
    ...FOOT(rows).map((l) => `${l}  `),
    '',
  ].join('\n');
  writeFileAtomic(path, readFileSync(path, 'utf8') + md, { overwrite: true });
}
