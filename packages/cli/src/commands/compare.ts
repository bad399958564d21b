/** eval --compare: a second model on the same images, the top-1 change and per-image top-1 agreement. */
import { evaluate, type EvalResult } from '@effnet/bench';
import { createRunner } from '@effnet/runtime';
import type { Dataset } from '@effnet/images';
import { int8LatencyOnly, LATENCY_ONLY_NOTE, type ModelHandle } from '@effnet/pipeline';
import { metadataOutputs, untrainedWeights } from '@effnet/preprocess';
import { safeText } from '../text.js';
import type { PreprocessFlags } from './image-flags.js';

export interface Comparison {
  /** The reference model (id or file) as given. */
  readonly model: string;
  readonly precision?: string;
  readonly top1: number;
  readonly top5: number;
  /** This model's top-1 minus the reference's (fraction; ×100 = percentage points). */
  readonly top1Change: number;
  /** Images both models scored, and those whose top-1 class is the same. */
  readonly n: number;
  readonly agree: number;
  readonly agreement: number;
  /** What makes the two runs differ beyond the model (another resolution, untrained weights): said beside the figures. */
  readonly caveats?: readonly string[];
}

interface Opened {
  readonly model: ModelHandle;
  readonly preprocess: { resolution: number; cropPct: number; interpolation: 'bicubic' | 'bilinear'; mean: number[]; std: number[] };
  readonly fixedBatch: number | undefined;
}

/**
 * Evaluates `reference` on `ds` (its own preprocessing, so a float32 export and its int8 file read the
 * images identically) and compares its per-image top-1 with `top1Of` (the model under test).
 */
export async function agreementOf(reference: Opened, ds: Dataset, top1Of: ReadonlyMap<string, number>, result: EvalResult, f: PreprocessFlags, batch: number, own?: Opened): Promise<Comparison> {
  const caveats: string[] = [];
  if (own && own.preprocess.resolution !== reference.preprocess.resolution)
    caveats.push(
      `the reference ran at ${reference.preprocess.resolution}x${reference.preprocess.resolution}, this model at ${own.preprocess.resolution}x${own.preprocess.resolution}: the change mixes resolution with the model`,
    );
  if (untrainedWeights(reference.model.metadata)) caveats.push(`${reference.model.label} has untrained default weights: its top-1 and the agreement say nothing of accuracy`);
  const runner = await createRunner(reference.model.source(), { ep: f.ep, inputKind: reference.model.inputKind, ...(f.threads ? { threads: f.threads } : {}) });
  let n = 0;
  let agree = 0;
  let r: EvalResult;
  try {
    process.stderr.write(`compare: evaluating ${reference.model.label} on the same ${ds.samples.length} images\n`);
    r = await evaluate(runner, ds, reference.model.numClasses, {
      ...reference.preprocess,
      outputs: metadataOutputs(reference.model.metadata, reference.model.label),
      batch: reference.fixedBatch ?? batch,
      ...(reference.fixedBatch !== undefined ? { fixedBatch: true } : {}),
      onPrediction: (s, t5) => {
        const mine = top1Of.get(s.key);
        if (mine === undefined) return;
        n++;
        if (mine === t5[0]) agree++;
      },
    });
  } finally {
    await runner.release();
  }
  const precision = reference.model.metadata['effnet.precision'];
  return {
    model: reference.model.ref,
    ...(precision ? { precision } : {}),
    top1: r.top1,
    top5: r.top5,
    top1Change: result.top1 - r.top1,
    n,
    agree,
    agreement: n ? agree / n : 0,
    ...(caveats.length ? { caveats } : {}),
  };
}

/** The report lines of a comparison (and of the latency-only warning). */
export function compareLines(c: Comparison | undefined, note: string | undefined): string {
  const lines: string[] = [];
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  if (c) {
    const pp = 100 * c.top1Change;
    lines.push(
      `compare ${safeText(c.model)}${c.precision ? ` (${c.precision})` : ''}: top-1 ${pct(c.top1)}, change ${pp >= 0 ? '+' : ''}${pp.toFixed(2)} pp; per-image top-1 agreement ${pct(c.agreement)} (${c.agree}/${c.n})`,
    );
  }
  for (const x of c?.caveats ?? []) lines.push(`note: ${safeText(x)}`);
  if (note) lines.push(`warning: ${note}`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** The latency-only warning for a model whose metadata says so. */
export function latencyOnlyNote(metadata: Readonly<Record<string, string>>): string | undefined {
  return int8LatencyOnly(metadata) ? LATENCY_ONLY_NOTE : undefined;
}
