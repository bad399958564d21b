import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { checkPart, evaluate, makePart, MergeError, mergeParts, parseShard, selectShard, type EvalProgress, type EvalResult, type EvalSummary } from '@effnet/bench';
import { createRunner } from '@effnet/runtime';
import { AtomicFile, writeFileAtomic } from '@effnet/safe-fs';
import { checkOutputs } from '../check-outputs.js';
import { alignClasses, listDataset, spreadSubset, type Dataset } from '@effnet/images';
import { displayLabel, metadataLabels, metadataOutputs, noClassesMessage, UNTRAINED_WEIGHTS, untrainedWeights } from '@effnet/preprocess';
import { UsageError } from '../errors.js';
import { formatCount, renderTable } from '../output.js';
import { safeText } from '../text.js';
import { intInRange, LIMITS } from '../parse.js';
import { addModelOptions, type ModelFlags } from './common.js';
import { agreementOf, compareLines, latencyOnlyNote, type Comparison } from './compare.js';
import { addPreprocessOptions, checkBatchMemory, openForImages, type PreprocessFlags } from './image-flags.js';

interface EvalFlags extends ModelFlags, PreprocessFlags {
  data?: string;
  shard?: string;
  merge?: string[];
  labels?: string;
  batch?: number;
  limit?: number;
  strict?: boolean;
  json?: string | true;
  predictions?: string;
  force?: boolean;
  prefetch?: number;
  compare?: string;
  folderOrder?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('eval')
    .description('top-1 / top-5 accuracy on a labelled image folder, from image files to logits')
    .argument('[model]', "model id (see 'effnet list') or an .onnx file (none with --merge)")
    .option('--data <dir>', 'images: ImageFolder layout DIR/<class>/<image> (class index = sorted folder order), or any folder with --labels (required unless --merge)')
    .option('--labels <file>', "labels file: '<file> <label>' per line (label = class index or name), relative to --data");
  addModelOptions(cmd, { batch: false });
  addPreprocessOptions(cmd)
    .option('--batch <N>', `images per inference, 1..${LIMITS.batch} (default 16; an .onnx file with a fixed batch uses its own)`, intInRange('--batch', 1, LIMITS.batch))
    .option('--prefetch <N>', `batches decoded ahead of inference, 1..${LIMITS.prefetch} (default 2)`, intInRange('--prefetch', 1, LIMITS.prefetch))
    .option('--limit <N>', `evaluate N images spread evenly over the listing, 1..${LIMITS.limit}`, intInRange('--limit', 1, LIMITS.limit))
    .option('--strict', 'stop at the first unreadable image (default: count, list and skip it)')
    .option('--folder-order', "take sorted class folders as class indices 0, 1, … even when they are fewer than the model's classes and cannot be matched by name")
    .option('--json [file]', 'JSON report on stdout, or written to <file>')
    .option('--predictions <file>', 'write {"<class>/<file>": [top-5 class indices]} for every image; with --shard, the part file that --merge reads')
    .option(
      '--shard <K/N>',
      'evaluate shard K of N (K = 0..N-1): every N-th image of the listing sorted by path, from K; auto/N takes K from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID (Slurm array); needs --predictions',
    )
    .option('--merge <parts...>', 'merge the part files of a sharded run (every shard once, same model, preprocessing and data) into the report of one unsharded run')
    .option('-f, --force', 'overwrite existing --json/--predictions files')
    .option('--compare <model>', 'also evaluate this model (id or .onnx, e.g. the float32 reference of an int8 file) on the same images: top-1 change and per-image top-1 agreement')
    .addHelpText(
      'after',
      `
Preprocessing (timm / torchvision eval): resize the shorter side to floor(R / crop_pct) with PIL-style
bicubic, center-crop R x R, scale to [0,1], normalize with mean/std. Defaults come from the model
(built ids) or the ONNX file's effnet metadata; ImageNet mean/std otherwise.

Examples:
  effnet eval efficientnet-b0 --weights b0-imagenette.safetensors --data imagenette/val --resolution 160
  effnet eval model.onnx --data val/ --labels val.txt --json eval.json --predictions preds.json
  effnet eval b0-int8.onnx --data imagenette/val --compare b0-fp32.onnx`,
    )
    .action(async (ref: string | undefined, f: EvalFlags) => {
      if (f.merge) return mergeCommand(ref, f);
      if (ref === undefined) throw new UsageError('eval: missing the model argument (a model id or an .onnx file), or give --merge PART...');
      if (f.data === undefined) throw new UsageError('--data: required (the image folder to evaluate on)');
      const shard = f.shard !== undefined ? parseShard(f.shard) : undefined;
      if (shard && f.predictions === undefined) throw new UsageError(`--shard ${f.shard}: needs --predictions FILE, the part file that 'effnet eval --merge' reads`);
      if (shard && f.compare !== undefined) throw new UsageError('--compare: not with --shard (compare the merged predictions instead)');
      const t0 = performance.now();
      // Refuse existing outputs before doing any work.
      checkOutputs(
        [
          { flag: '--json', path: typeof f.json === 'string' ? f.json : undefined },
          { flag: '--predictions', path: f.predictions },
        ],
        { force: !!f.force },
      );
      const { model, preprocess, fixedBatch } = openForImages(ref, f);
      if (fixedBatch !== undefined && f.batch !== undefined && f.batch !== fixedBatch) throw new UsageError(`--batch ${f.batch}: ${ref} has a fixed batch size of ${fixedBatch}`);
      const batch = fixedBatch ?? f.batch ?? 16;
      // The running batch and --prefetch decoded ones are held at once.
      checkBatchMemory(model, batch, (f.prefetch ?? 2) + 1);

      // What the file outputs (effnet.outputs): a backbone or embedding file has no classes to score.
      const outputs = metadataOutputs(model.metadata, model.label);
      if (outputs.kind === 'none') throw new UsageError(noClassesMessage(model.label, outputs));
      // Class names of the model (effnet.labels) let the listing's classes be matched by name.
      const modelLabels = metadataLabels(model.metadata, model.label, model.numClasses);
      let ds: Dataset = listDataset(f.data, f.labels ? { labels: f.labels } : {});
      const numericLabels = ds.classes.every((c, i) => c === String(i)) && f.labels !== undefined;
      // Folders (or label names) onto the model's indices: by name, ImageNet WordNet ids, or sorted order only when that is safe.
      ds = alignClasses(ds, { numClasses: model.numClasses, model: model.label, ...(modelLabels ? { labels: modelLabels } : {}) }, { numericLabels, ...(f.folderOrder ? { folderOrder: true } : {}) });
      if (f.limit !== undefined) ds = { ...ds, samples: spreadSubset(ds.samples, f.limit) };
      const full = ds;
      if (shard) ds = { ...ds, samples: selectShard(ds.samples, shard) };

      const reference = f.compare !== undefined ? openForImages(f.compare, f) : undefined;
      if (reference && reference.model.numClasses !== model.numClasses) throw new UsageError(`--compare ${f.compare}: ${reference.model.numClasses} classes; ${ref} has ${model.numClasses}`);
      if (reference) checkBatchMemory(reference.model, batch, (f.prefetch ?? 2) + 1);
      const top1Of = reference ? new Map<string, number>() : undefined;
      const runner = await createRunner(model.source(), { ep: f.ep, inputKind: model.inputKind, ...(f.threads ? { threads: f.threads } : {}) });
      const predictions = f.predictions && !shard ? new PredictionsWriter(f.predictions, !!f.force) : undefined;
      const progress = new ProgressDisplay(ds.samples.length, Boolean(process.stderr.isTTY));
      let result: EvalResult;
      try {
        result = await evaluate(runner, ds, model.numClasses, {
          ...preprocess,
          outputs,
          batch,
          model: model.label,
          ...(fixedBatch !== undefined ? { fixedBatch: true } : {}),
          ...(f.prefetch ? { prefetch: f.prefetch } : {}),
          ...(f.strict ? { strict: true } : {}),
          onProgress: (p) => progress.update(p),
          ...(predictions || top1Of
            ? {
                onPrediction: (s: { key: string }, t5: readonly number[]) => {
                  predictions?.add(s.key, t5);
                  top1Of?.set(s.key, t5[0]!);
                },
              }
            : {}),
        });
        progress.stop();
        predictions?.commit();
      } catch (e) {
        progress.stop();
        predictions?.abort();
        throw e;
      } finally {
        await runner.release();
      }
      if (result.n === 0)
        throw new Error(
          `${f.data}: none of the ${formatCount(result.listed)} listed images could be read (first: ${result.failed[0]?.file ?? '?'}: ${result.failed[0]?.error ?? '?'}); nothing was scored`,
        );
      const comparison: Comparison | undefined = reference && top1Of ? await agreementOf(reference, ds, top1Of, result, f, batch, { model, preprocess, fixedBatch }) : undefined;
      const note = latencyOnlyNote(model.metadata);
      const header = {
        model: model.label,
        // What was evaluated, so that `bench --accuracy-from` attaches the figure only to this model.
        precision: model.metadata['effnet.precision'] === 'int8' ? 'int8' : model.metadata['effnet.precision'] === 'float16' || f.fp16 ? 'fp16' : 'fp32',
        numClasses: model.numClasses,
        ...(note ? { warning: note } : {}),
        weights: untrainedWeights(model.metadata) ? UNTRAINED_WEIGHTS : (f.weights ?? model.metadata['effnet.weights'] ?? null),
        data: f.data,
        ...(f.labels ? { labels: f.labels } : {}),
        resolution: preprocess.resolution,
        cropPct: preprocess.cropPct,
        interpolation: preprocess.interpolation,
        mean: preprocess.mean,
        std: preprocess.std,
      };
      if (shard) {
        // What was evaluated, for --merge to check: the header, the model's bytes, the subset.
        const source = model.source();
        const modelSha256 = createHash('sha256')
          .update(typeof source === 'string' ? readFileSync(source) : source)
          .digest('hex');
        // Paths (data, labels, weights) may differ between machines; the model's bytes and the listing's fingerprint may not.
        const { data: _data, labels: _labels, weights, ...same } = header;
        const evaluated = { ...same, ...(f.weights === undefined ? { weights } : {}), modelSha256, ...(f.limit !== undefined ? { limit: f.limit } : {}), numClasses: model.numClasses };
        const part = makePart({ evaluated, dataset: full, shard, records: result.records, failed: result.failed, seconds: result.seconds.total });
        writeFileAtomic(f.predictions!, `${JSON.stringify(part)}\n`, { overwrite: !!f.force });
      }
      const report = {
        ...header,
        ...(shard ? { shard: `${shard.index}/${shard.count}` } : {}),
        ...reportCounts(result),
        imagesPerSecond: result.imagesPerSecond,
        seconds: { ...result.seconds, setup: (performance.now() - t0) / 1000 - result.seconds.total },
        ep: runner.ep,
        batch,
        ...(model.kind === 'file' ? { file: model.ref } : {}),
        ...(comparison ? { compare: comparison } : {}),
      };
      const json = `${JSON.stringify(report, null, 2)}\n`;
      if (typeof f.json === 'string') writeFileAtomic(f.json, json, { overwrite: !!f.force });
      if (f.json === true) process.stdout.write(json);
      else process.stdout.write(formatReport(report, result) + compareLines(comparison, note));
      if (typeof f.json === 'string') process.stderr.write(`wrote ${f.json}\n`);
      if (f.predictions) process.stderr.write(`wrote ${f.predictions} (${shard ? `part ${shard.index}/${shard.count}, ` : ''}${formatCount(result.n)} images)\n`);
    });
}

/** `effnet eval --merge part-*.json`: the parts of a sharded run → the report of one unsharded run. */
function mergeCommand(ref: string | undefined, f: EvalFlags): void {
  if (ref !== undefined) throw new UsageError(`--merge: give only the part files, not a model ('${ref}'): the parts say what was evaluated`);
  for (const flag of ['data', 'shard', 'compare', 'labels', 'weights', 'limit'] as const)
    if (f[flag] !== undefined) throw new UsageError(`--merge: --${flag} does not apply (the parts carry what was evaluated)`);
  checkOutputs(
    [
      { flag: '--json', path: typeof f.json === 'string' ? f.json : undefined },
      { flag: '--predictions', path: f.predictions },
    ],
    { force: !!f.force },
  );
  const parts = f.merge!.map((path) => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new MergeError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new MergeError(`${path}: not JSON (truncated part file?)`);
    }
    return { path, part: checkPart(value, path) };
  });
  const merged = mergeParts(parts);
  const e = merged.evaluated as Record<string, unknown>;
  const { modelSha256: _sha, limit: _limit, numClasses: _k, ...header } = e;
  const s = merged.summary;
  const report = {
    ...header,
    data: merged.data.root,
    shards: merged.shards,
    ...reportCounts(s),
    seconds: { total: merged.seconds },
    imagesPerSecond: merged.seconds > 0 ? s.n / merged.seconds : 0,
  };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (typeof f.json === 'string') writeFileAtomic(f.json, json, { overwrite: !!f.force });
  if (f.predictions)
    writeFileAtomic(f.predictions, `{${[...merged.predictions].map(([k, t5], i) => `${i ? ',' : ''}\n  ${JSON.stringify(k)}: [${t5.join(', ')}]`).join('')}${merged.predictions.size ? '\n' : ''}}\n`, {
      overwrite: !!f.force,
    });
  if (f.json === true) process.stdout.write(json);
  else process.stdout.write(formatSummary(String(header.model), String(merged.data.root), `merged from ${merged.shards} shards`, (header.weights as string | undefined) ?? null, s));
  if (typeof f.json === 'string') process.stderr.write(`wrote ${f.json}\n`);
  if (f.predictions) process.stderr.write(`wrote ${f.predictions} (${formatCount(s.n)} images)\n`);
}

/** The accuracy part of a report, the same for a single run and a merge. */
function reportCounts(s: EvalSummary) {
  return {
    n: s.n,
    listed: s.listed,
    top1: s.top1,
    top5: s.top5,
    perClass: s.perClass.map((c) => ({ ...c, ...(displayLabel(c.class) !== c.class ? { name: displayLabel(c.class) } : {}) })),
    failed: s.failed,
  };
}

function formatSummary(model: string, data: string, how: string, weights: string | null, e: EvalSummary): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const lines: string[] = [];
  if (weights === UNTRAINED_WEIGHTS) lines.push(`note: ${safeText(model)} has untrained deterministic default weights (no --weights): this accuracy measures no trained model`);
  lines.push(`${safeText(model)} on ${safeText(data)}: ${how}`);
  const rows = e.perClass.map((c) => [safeText(displayLabel(c.class)), c.index, c.n, pct(c.top1), pct(c.top5)]);
  if (e.perClass.length <= 100) lines.push(renderTable(['class', 'index', 'n', 'top-1', 'top-5'], rows, { compact: true, colAligns: ['left', 'right', 'right', 'right', 'right'] }));
  lines.push(`top-1 ${pct(e.top1)}  top-5 ${pct(e.top5)}  n ${formatCount(e.n)}${e.failed.length ? `  (${e.failed.length} unreadable, skipped)` : ''}`);
  for (const x of e.failed.slice(0, 20)) lines.push(`  unreadable: ${safeText(x.file)}: ${safeText(x.error)}`);
  if (e.failed.length > 20) lines.push(`  … and ${e.failed.length - 20} more (see --json)`);
  return `${lines.join('\n')}\n`;
}

function formatReport(r: { model: string; weights: string | null; resolution: number; cropPct: number; interpolation: string; ep: string; batch: number; data: string }, e: EvalResult): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const lines: string[] = [];
  if (r.weights === UNTRAINED_WEIGHTS) lines.push(`note: ${safeText(r.model)} has untrained deterministic default weights (no --weights): this accuracy measures no trained model`);
  lines.push(`${safeText(r.model)} on ${safeText(r.data)}: ${r.resolution}x${r.resolution}, crop_pct ${r.cropPct}, ${r.interpolation}, ${r.ep}, batch ${r.batch}`);
  const rows = e.perClass.map((c) => [safeText(displayLabel(c.class)), c.index, c.n, pct(c.top1), pct(c.top5)]);
  if (e.perClass.length <= 100) lines.push(renderTable(['class', 'index', 'n', 'top-1', 'top-5'], rows, { compact: true, colAligns: ['left', 'right', 'right', 'right', 'right'] }));
  lines.push(`top-1 ${pct(e.top1)}  top-5 ${pct(e.top5)}  n ${formatCount(e.n)}${e.failed.length ? `  (${e.failed.length} unreadable, skipped)` : ''}`);
  const s = e.seconds;
  lines.push(
    `${e.imagesPerSecond.toFixed(1)} images/s; ${s.total.toFixed(1)} s: inference ${s.inference.toFixed(1)} s, decoding ${s.decode.toFixed(1)} s (in parallel), inference waited ${s.stall.toFixed(1)} s for images`,
  );
  for (const x of e.failed.slice(0, 20)) lines.push(`  unreadable: ${safeText(x.file)}: ${safeText(x.error)}`);
  if (e.failed.length > 20) lines.push(`  … and ${e.failed.length - 20} more (see --json)`);
  return `${lines.join('\n')}\n`;
}

/** `{ "<key>": [top-5], ... }` streamed into an atomic file as results arrive. */
class PredictionsWriter {
  private readonly file: AtomicFile;
  private first = true;
  constructor(path: string, force: boolean) {
    this.file = new AtomicFile(path, { overwrite: force });
    this.file.write(Buffer.from('{'));
  }
  add(key: string, top5: readonly number[]): void {
    this.file.write(Buffer.from(`${this.first ? '\n' : ',\n'}  ${JSON.stringify(key)}: [${top5.join(', ')}]`));
    this.first = false;
  }
  commit(): void {
    this.file.write(Buffer.from(this.first ? '}\n' : '\n}\n'));
    this.file.commit();
  }
  abort(): void {
    this.file.abort();
  }
}

/** A bar with images/s and running top-1 on a terminal; a line every 10% otherwise. */
class ProgressDisplay {
  private readonly bar: cliProgress.SingleBar | undefined;
  private nextLine = 0.1;
  constructor(
    private readonly total: number,
    tty: boolean,
  ) {
    if (tty) {
      this.bar = new cliProgress.SingleBar(
        { format: 'eval [{bar}] {value}/{total} | {ips} img/s | top-1 {top1} | {failed} unreadable | ETA {eta_formatted}', hideCursor: true, stream: process.stderr, etaBuffer: 50 },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, 0, { ips: '-', top1: '-', failed: 0 });
    }
  }
  update(p: EvalProgress): void {
    const payload = { ips: p.imagesPerSecond.toFixed(1), top1: `${(100 * p.top1).toFixed(2)}%`, failed: p.failed };
    if (this.bar) return this.bar.update(p.done, payload);
    if (p.done >= this.total * this.nextLine || p.done === this.total) {
      while (p.done >= this.total * this.nextLine) this.nextLine += 0.1;
      process.stderr.write(`eval ${p.done}/${this.total}  ${payload.ips} img/s  top-1 ${payload.top1}${p.failed ? `  ${p.failed} unreadable` : ''}\n`);
    }
  }
  stop(): void {
    this.bar?.stop();
  }
}
