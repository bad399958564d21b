/** What every way of running a model gives its caller: named tensors in, named tensors out. */
import type { Browser } from 'playwright-core';
import type { NodeEp } from './errors.js';
import type { Tensors, TensorType } from './tensor.js';

/** An input or output as the session reports it. */
export interface IoInfo {
  readonly name: string;
  /** Element type (absent when the runtime does not say, e.g. onnxruntime < 1.21 or a non-tensor value). */
  readonly type?: TensorType | string;
  /** Dims: numbers, or names of symbolic dims (absent when the runtime does not say). */
  readonly shape?: readonly (number | string)[];
}

export interface SessionOptions {
  /** Default `cpu`. */
  readonly ep?: NodeEp;
  /** Intra-op threads (cpu) / wasm threads. Default: the runtime's choice (wasm: 1). */
  readonly threads?: number;
  /** Only errors in onnxruntime's log (severity 3). */
  readonly quiet?: boolean;
  /** onnxruntime-node: no memory arena and no memory pattern (every run frees what it allocated; peak memory is what one run needs). */
  readonly lowMemory?: boolean;
  /**
   * `web-wasm` / `web-webgpu`: a Chromium from launchChromium to open the session's page in (for
   * `web-webgpu`, launched with `webgpu: true`). Many sessions then share one browser, which is slow
   * to start; release() closes the session's page only, the caller closes the browser. Default: a
   * browser of the session's own, closed by release().
   */
  readonly browser?: Browser;
}

export interface ModelSession {
  readonly ep: NodeEp;
  readonly inputs: readonly IoInfo[];
  readonly outputs: readonly IoInfo[];
  /** Session creation time, milliseconds. */
  readonly createMs: number;
  /** The WebGPU adapter the page got (`web-webgpu`; "google swiftshader" without a GPU); null otherwise. */
  readonly adapter: string | null;
  /** Runs the model on `feeds` (every input by name); returns `outputs` (default: all), by name. */
  run(feeds: Tensors, outputs?: readonly string[]): Promise<Tensors>;
  release(): Promise<void>;
}

/** onnxruntime's metadata of one input or output (node and web, ≥ 1.21). */
export interface OrtValueMetadata {
  readonly isTensor?: boolean;
  readonly type?: string;
  readonly shape?: readonly (number | string)[];
}

/** Names + onnxruntime's metadata of a session's inputs or outputs. */
export function ioInfo(names: readonly string[], meta: readonly (OrtValueMetadata | undefined)[] | undefined): IoInfo[] {
  return names.map((name, i) => {
    const m = meta?.[i];
    return { name, ...(m?.type ? { type: m.type } : {}), ...(m?.shape ? { shape: [...m.shape] } : {}) };
  });
}

/** Every input fed, nothing unknown: a one-line error naming the tensor otherwise. */
export function checkFeeds(inputs: readonly IoInfo[], feeds: Tensors): void {
  for (const i of inputs) {
    const t = feeds[i.name];
    if (!t) throw new Error(`model input '${i.name}' was not fed (feeds: ${Object.keys(feeds).join(', ') || 'none'})`);
    if (i.type && i.type !== t.type) throw new Error(`model input '${i.name}' takes ${i.type}, was fed ${t.type}`);
  }
  for (const name of Object.keys(feeds)) if (!inputs.some((i) => i.name === name)) throw new Error(`the model has no input '${name}' (inputs: ${inputs.map((i) => i.name).join(', ')})`);
}
