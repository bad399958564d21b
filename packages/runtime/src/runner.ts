/**
 * The convenient layer over {@link openSession} for image classifiers: one float32 image batch in,
 * the first output out as float32. A model exported with `--fp16-io` takes and gives float16: the
 * runner narrows the input and widens the output, so callers always see float32.
 */
import type { NodeEp } from './errors.js';
import type { ModelSession, SessionOptions } from './model-session.js';
import { openSession } from './session.js';
import { fromFloat32, tensor, toFloat32, type Tensors } from './tensor.js';

export interface RunnerOptions extends Omit<SessionOptions, 'quiet'> {
  /**
   * What the first input takes, as the model's metadata says (`ModelHandle.inputKind`); without it
   * the input's declared type and shape decide ({@link inputKindOf}), which cannot tell every NHWC
   * input from an NCHW one.
   */
  readonly inputKind?: InputKind;
}

export interface Output {
  readonly data: Float32Array;
  readonly dims: readonly number[];
  /** The other outputs asked for (`also` of run / runPixels), as the model gives them (e.g. a topk file's int64 `classes`). */
  readonly also: Tensors;
}

/**
 * What the model's first input takes: `nchw` float images (the default), `nhwc` float images
 * (`--layout nhwc`: the runner transposes, callers still give NCHW), or `pixels`: decoded uint8 RGB
 * pictures [N,H,W,3] of any size (`--embed-preprocessing`: resize, crop and normalize are in the graph).
 */
export type InputKind = 'nchw' | 'nhwc' | 'pixels';

/** Largest side of a picture fed to a `pixels` model (as effnet's decoders: 16384 × 8192 at most). */
export const MAX_PIXELS_SIDE = 16384;
/** Largest picture fed to a `pixels` model, in pixels (2^27, as effnet's decoders). */
export const MAX_PIXELS = 2 ** 27;

export interface Runner {
  readonly ep: NodeEp;
  readonly inputKind: InputKind;
  readonly inputName: string;
  readonly outputName: string;
  /** Session creation time, milliseconds. */
  readonly createMs: number;
  /** The WebGPU adapter of a `web-webgpu` runner; null otherwise. */
  readonly adapter: string | null;
  /** The session underneath (every input and output, any dtype). */
  readonly session: ModelSession;
  /** A float32 NCHW image batch (not for `pixels` models); `also`: other outputs to return as well. */
  run(data: Float32Array, dims: readonly number[], also?: readonly string[]): Promise<Output>;
  /** Decoded uint8 RGB pictures [N,H,W,3] (only for `pixels` models); `also`: other outputs to return as well. */
  runPixels(data: Uint8Array, dims: readonly number[], also?: readonly string[]): Promise<Output>;
  release(): Promise<void>;
}

/** The input form a session's first input declares (see {@link InputKind}). */
export function inputKindOf(input: { readonly type?: string; readonly shape?: readonly (number | string)[] }): InputKind {
  const d = input.shape;
  if (input.type === 'uint8' && d?.length === 4 && d[3] === 3) return 'pixels';
  // NHWC images: 3 channels last and a square or symbolic H×W ([1,2,1,3] is no image).
  const hw = d?.length === 4 && (d[1] === d[2] ? typeof d[1] === 'number' || typeof d[1] === 'string' : typeof d[1] === 'string' && typeof d[2] === 'string');
  if (d?.length === 4 && d[3] === 3 && d[1] !== 3 && hw) return 'nhwc';
  return 'nchw';
}

/** Checks a picture batch for a `pixels` model: one line naming what is wrong. */
export function checkPixels(input: string, data: unknown, dims: readonly number[]): void {
  if (!(data instanceof Uint8Array))
    throw new Error(`model input '${input}' takes decoded uint8 RGB pixels [N,H,W,3] (an embedded-preprocessing file); it was given ${(data as object)?.constructor?.name ?? typeof data} data`);
  if (dims.length !== 4) throw new Error(`model input '${input}' takes a picture batch [N,H,W,3]; got [${dims.join(',')}]`);
  const [n, h, w, c] = dims as [number, number, number, number];
  if (c !== 3) throw new Error(`model input '${input}' takes RGB pictures (3 channels); got ${c} channel${c === 1 ? '' : 's'}: convert grey or RGBA pictures to RGB first`);
  if (!(n >= 1 && h >= 1 && w >= 1)) throw new Error(`model input '${input}': the picture is empty ([${dims.join(',')}])`);
  if (h > MAX_PIXELS_SIDE || w > MAX_PIXELS_SIDE || h * w > MAX_PIXELS)
    throw new Error(`model input '${input}': a ${w}x${h} picture is over effnet's limit (${MAX_PIXELS_SIDE} per side, ${MAX_PIXELS} pixels)`);
  if (data.length !== n * h * w * 3) throw new Error(`model input '${input}': ${data.length} bytes for [${dims.join(',')}] (${n * h * w * 3} expected)`);
}

/** NCHW → NHWC of a float batch. */
function toNhwc(data: Float32Array, dims: readonly number[]): { data: Float32Array; dims: number[] } {
  const [n, c, h, w] = dims as [number, number, number, number];
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++) {
        const src = ((b * c + ch) * h + y) * w;
        const dst = (b * h + y) * w * c + ch;
        for (let x = 0; x < w; x++) out[dst + x * c] = data[src + x]!;
      }
  return { data: out, dims: [n, h, w, c] };
}

/** Opens `model` (bytes or a path to an .onnx file) on the chosen execution provider as a single-input runner. */
export async function createRunner(model: Uint8Array | string, o: RunnerOptions = {}): Promise<Runner> {
  const { inputKind, ...session } = o;
  return runnerOf(await openSession(model, session), inputKind);
}

/** A session as a Runner: its first input fed float32 (float16 for a `--fp16-io` model), its first output read back as float32. */
export function runnerOf(session: ModelSession, declared?: InputKind): Runner {
  const input = session.inputs[0];
  const output = session.outputs[0];
  if (!input || !output) throw new Error('the model has no inputs or no outputs');
  const inputKind = declared ?? inputKindOf(input);
  if (declared === 'pixels' && input.type !== undefined && input.type !== 'uint8')
    throw new Error(`model input '${input.name}' takes ${input.type}; its metadata says decoded uint8 pictures (an embedded-preprocessing file)`);
  if (declared !== undefined && declared !== 'pixels' && input.shape?.length !== undefined && input.shape.length !== 4)
    throw new Error(`model input '${input.name}' has ${input.shape.length} dimensions; an ${declared.toUpperCase()} image input has 4`);
  if (inputKind !== 'pixels' && input.type !== undefined && input.type !== 'float32' && input.type !== 'float16')
    throw new Error(`model input '${input.name}' takes ${input.type}; this runner feeds float32 image batches`);
  const half = input.type === 'float16';
  const read = async (feed: Parameters<ModelSession['run']>[0], also: readonly string[] = []): Promise<Output> => {
    const all = await session.run(feed, [output.name, ...also.filter((n) => n !== output.name)]);
    const out = all[output.name]!;
    return { data: toFloat32(out, `model output '${output.name}'`), dims: out.dims, also: Object.fromEntries(also.map((n) => [n, all[n]!])) };
  };
  return {
    ep: session.ep,
    inputKind,
    inputName: input.name,
    outputName: output.name,
    createMs: session.createMs,
    adapter: session.adapter,
    session,
    async run(data, dims, also) {
      if (inputKind === 'pixels') checkPixels(input.name, data, dims);
      const x = inputKind === 'nhwc' ? toNhwc(data, dims) : { data, dims };
      return read({ [input.name]: fromFloat32(half ? 'float16' : 'float32', x.data, x.dims) }, also);
    },
    async runPixels(data, dims, also) {
      if (inputKind !== 'pixels') throw new Error(`model input '${input.name}' takes float image batches, not pixels (only an --embed-preprocessing file takes decoded pictures)`);
      checkPixels(input.name, data, dims);
      return read({ [input.name]: tensor('uint8', data, dims) }, also);
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
