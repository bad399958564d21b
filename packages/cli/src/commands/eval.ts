import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { evaluate, type EvalProgress, type EvalResult } from '@effnet/bench';
import { createRunner } from '@effnet/runtime';
import { AtomicFile, writeFileAtomic } from '@effnet/safe-fs';
import { checkOutputs } from '../check-outputs.js';
import { listDataset, spreadSubset, toImagenetLabels, type Dataset } from '@effnet/images';
import { allImagenetWnids, displayLabel, UNTRAINED_WEIGHTS, untrainedWeights } from '@effnet/preprocess';
import { UsageError } from '../errors.js';
import { formatCount, renderTable } from '../output.js';
import { safeText } from '../text.js';
import { intInRange, LIMITS } from '../parse.js';
import { addModelOptions, type ModelFlags } from './common.js';
import { agreementOf, compareLines, latencyOnlyNote, type Comparison } from './compare.js';
import { addPreprocessOptions, openForImages, type PreprocessFlags } from './image-flags.js';

interface EvalFlags extends ModelFlags, PreprocessFlags {
  data: string;
  labels?: string;
  batch?: number;
  limit?: number;
  strict?: boolean;
  json?: string | true;
  predictions?: string;
  force?: boolean;
  prefetch?: number;
  compare?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('eval')
    .description('top-1 / top-5 accuracy on a labelled image folder, from image files to logits')
    .argument('<model>', "model id (see 'effnet list') or an .onnx file")
    .requiredOption('--data <dir>', 'images: ImageFolder layout DIR/<class>/<image> (class index = sorted folder order), or any folder with --labels')
    .option('--labels <file>', "labels file: '<file> <label>' per line (label = class index or name), relative to --data");
  addModelOptions(cmd, { batch: false });
  addPreprocessOptions(cmd)
    .option('--batch <N>', `images per inference, 1..${LIMITS.batch} (default 16; an .onnx file with a fixed batch uses its own)`, intInRange('--batch', 1, LIMITS.batch))
    .option('--prefetch <N>', `batches decoded ahead of inference, 1..${LIMITS.prefetch} (default 2)`, intInRange('--prefetch', 1, LIMITS.prefetch))
    .option('--limit <N>', `evaluate N images spread evenly over the listing, 1..${LIMITS.limit}`, intInRange('--limit', 1, LIMITS.limit))
    .option('--strict', 'stop at the first unreadable image (default: count, list and skip it)')
    .option('--json [file]', 'JSON report on stdout, or written to <file>')
    .option('--predictions <file>', 'write {"<class>/<file>": [top-5 class indices]} for every image')
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
    .action(async (ref: string, f: EvalFlags) => {
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

      let ds: Dataset = listDataset(f.data, f.labels ? { labels: f.labels } : {});
      // ImageNet-subset folders (Imagenette…) named by WordNet id, evaluated with a 1000-class model.
      if (model.numClasses === 1000 && ds.classes.length < 1000 && allImagenetWnids(ds.classes)) ds = toImagenetLabels(ds);
      if (f.limit !== undefined) ds = { ...ds, samples: spreadSubset(ds.samples, f.limit) };

      const reference = f.compare !== undefined ? openForImages(f.compare, f) : undefined;
      if (reference && reference.model.numClasses !== model.numClasses) throw new UsageError(`--compare ${f.compare}: ${reference.model.numClasses} classes; ${ref} has ${model.numClasses}`);
      const top1Of = reference ? new Map<string, number>() : undefined;
      const runner = await createRunner(model.source(), { ep: f.ep, ...(f.threads ? { threads: f.threads } : {}) });
      const predictions = f.predictions ? new PredictionsWriter(f.predictions, !!f.force) : undefined;
      const progress = new ProgressDisplay(ds.samples.length, Boolean(process.stderr.isTTY));
      let result: EvalResult;
      try {
        result = await evaluate(runner, ds, model.numClasses, {
          ...preprocess,
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
      const comparison: Comparison | undefined = reference && top1Of ? await agreementOf(reference, ds, top1Of, result, f, batch) : undefined;
      const note = latencyOnlyNote(model.metadata);
      const report = {
        model: model.label,
        ...(model.metadata['effnet.precision'] ? { precision: model.metadata['effnet.precision'] } : {}),
        ...(note ? { warning: note } : {}),
        weights: untrainedWeights(model.metadata) ? UNTRAINED_WEIGHTS : (f.weights ?? model.metadata['effnet.weights'] ?? null),
        data: f.data,
        ...(f.labels ? { labels: f.labels } : {}),
        resolution: preprocess.resolution,
        cropPct: preprocess.cropPct,
        interpolation: preprocess.interpolation,
        mean: preprocess.mean,
        std: preprocess.std,
        n: result.n,
        listed: result.listed,
        top1: result.top1,
        top5: result.top5,
        perClass: result.perClass.map((c) => ({ ...c, ...(displayLabel(c.class) !== c.class ? { name: displayLabel(c.class) } : {}) })),
        failed: result.failed,
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
      if (f.predictions) process.stderr.write(`wrote ${f.predictions} (${formatCount(result.n)} images)\n`);
    });
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
