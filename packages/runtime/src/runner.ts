/**
 * The convenient layer over {@link openSession} for image classifiers: one float32 image batch in,
 * the first output out as float32. A model exported with `--fp16-io` takes and gives float16: the
 * runner narrows the input and widens the output, so callers always see float32.
 */
import type { NodeEp } from './errors.js';
import type { ModelSession, SessionOptions } from './model-session.js';
import { openSession } from './session.js';
import { fromFloat32, toFloat32 } from './tensor.js';

export type RunnerOptions = Omit<SessionOptions, 'quiet'>;

export interface Output {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export interface Runner {
  readonly ep: NodeEp;
  readonly inputName: string;
  readonly outputName: string;
  /** Session creation time, milliseconds. */
  readonly createMs: number;
  /** The WebGPU adapter of a `web-webgpu` runner; null otherwise. */
  readonly adapter: string | null;
  /** The session underneath (every input and output, any dtype). */
  readonly session: ModelSession;
  run(data: Float32Array, dims: readonly number[]): Promise<Output>;
  release(): Promise<void>;
}

/** Opens `model` (bytes or a path to an .onnx file) on the chosen execution provider as a single-input runner. */
export async function createRunner(model: Uint8Array | string, o: RunnerOptions = {}): Promise<Runner> {
  return runnerOf(await openSession(model, o));
}

/** A session as a Runner: its first input fed float32 (float16 for a `--fp16-io` model), its first output read back as float32. */
export function runnerOf(session: ModelSession): Runner {
  const input = session.inputs[0];
  const output = session.outputs[0];
  if (!input || !output) throw new Error('the model has no inputs or no outputs');
  if (input.type !== undefined && input.type !== 'float32' && input.type !== 'float16') throw new Error(`model input '${input.name}' takes ${input.type}; this runner feeds float32 image batches`);
  const half = input.type === 'float16';
  return {
    ep: session.ep,
    inputName: input.name,
    outputName: output.name,
    createMs: session.createMs,
    adapter: session.adapter,
    session,
    async run(data, dims) {
      const out = (await session.run({ [input.name]: fromFloat32(half ? 'float16' : 'float32', data, dims) }, [output.name]))[output.name]!;
      return { data: toFloat32(out, `model output '${output.name}'`), dims: out.dims };
    },
    release: () => session.release(),
  };
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`outputs differ in size: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
