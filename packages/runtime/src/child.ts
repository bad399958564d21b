/**
 * A model run in onnxruntime-node in a child process, synchronously: for callers that run inside
 * synchronous code (the pipeline measures BatchNorm statistics while weights materialize) or that
 * must not load onnxruntime in their own process (`effnet export` and `info`). onnxruntime-node is
 * only resolved here (its path) and imported in the child.
 *
 * Protocol: argv carries onnxruntime-node's module URL, the model path and a JSON header (feeds'
 * names, types, dims and byte lengths; the outputs asked; session settings); stdin carries the
 * feeds' bytes, concatenated. The child writes a 4-byte little-endian header length, a JSON header
 * (outputs' names, types, dims, byte lengths), then the outputs' bytes.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { isTensorType, TENSOR_TYPES, tensorBytes, tensorFromBytes, type TensorData, type Tensors } from './tensor.js';

export interface ChildRunOptions {
  /** Intra-op threads (and one inter-op thread); with 1, execution is sequential and bit-identical run to run. Default: onnxruntime's choice. */
  readonly threads?: number;
  /**
   * Memory arena and memory pattern off: peak memory of an EfficientNet-B7 BatchNorm-statistics
   * run ~20% lower at the same CPU time.
   */
  readonly lowMemory?: boolean;
  /** Names the run in errors (default: the model path). */
  readonly label?: string;
}

const CHILD = `import { readFileSync } from 'node:fs';

const [ortUrl, modelPath, headerJson] = process.argv.slice(1);
const ort = (await import(ortUrl)).default;
const header = JSON.parse(headerJson);
const ARRAYS = { float32: Float32Array, float16: Uint16Array, uint8: Uint8Array, int8: Int8Array, int32: Int32Array, int64: BigInt64Array, bool: Uint8Array };
const raw = readFileSync(0);
const feeds = {};
let at = 0;
for (const f of header.feeds) {
  const Ctor = ARRAYS[f.type];
  const bytes = Uint8Array.from(raw.subarray(at, at + f.bytes));
  at += f.bytes;
  feeds[f.name] = new ort.Tensor(f.type, new Ctor(bytes.buffer), f.dims);
}
const s = header.session;
const session = await ort.InferenceSession.create(modelPath, {
  executionProviders: ['cpu'],
  ...(s.threads ? { intraOpNumThreads: s.threads, interOpNumThreads: 1 } : {}),
  ...(s.threads === 1 ? { executionMode: 'sequential' } : {}),
  logSeverityLevel: 3,
  ...(s.lowMemory ? { enableCpuMemArena: false, enableMemPattern: false } : {}),
});
const result = await session.run(feeds, header.outputs);
const out = [];
const chunks = [];
for (const name of header.outputs) {
  const t = result[name];
  if (!t) throw new Error('onnxruntime returned no output ' + name);
  const d = t.data;
  if (!ArrayBuffer.isView(d)) throw new Error('output ' + name + ' is ' + t.type + ', not a tensor of numbers');
  out.push({ name, type: t.type, dims: t.dims, bytes: d.byteLength });
  chunks.push(Buffer.from(d.buffer, d.byteOffset, d.byteLength));
}
const head = Buffer.from(JSON.stringify(out));
const len = Buffer.alloc(4);
len.writeUInt32LE(head.length);
process.stdout.write(len);
process.stdout.write(head);
for (const c of chunks) process.stdout.write(c);
await session.release();
`;

/**
 * Runs the model at `modelPath` once on the CPU in a child process and returns `outputs`, by name.
 * Synchronous. Errors name `label` and the last error line of onnxruntime.
 */
export function runInChildProcess(modelPath: string, feeds: Tensors, outputs: readonly string[], o: ChildRunOptions = {}): Record<string, TensorData> {
  const label = o.label ?? modelPath;
  const entries = Object.entries(feeds);
  const header = {
    feeds: entries.map(([name, t]) => ({ name, type: t.type, dims: t.dims, bytes: t.data.byteLength })),
    outputs,
    session: { ...(o.threads ? { threads: o.threads } : {}), lowMemory: o.lowMemory ?? false },
  };
  const input = Buffer.concat(entries.map(([, t]) => tensorBytes(t)));
  const ortUrl = pathToFileURL(createRequire(import.meta.url).resolve('onnxruntime-node')).href;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, ortUrl, modelPath, JSON.stringify(header)], {
    input,
    maxBuffer: Number.MAX_SAFE_INTEGER,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (r.error) throw new Error(`${label}: ${r.error.message}`);
  if (r.status !== 0) {
    const why =
      r.stderr
        .toString()
        .trim()
        .split('\n')
        .filter((l) => /error/i.test(l))
        .pop() ?? `exit ${r.status ?? r.signal}`;
    throw new Error(`${label}: onnxruntime run failed: ${why}`);
  }
  const out = r.stdout;
  if (out.length < 4) throw new Error(`${label}: the onnxruntime child wrote ${out.length} bytes, expected a header`);
  const headLength = out.readUInt32LE(0);
  const head = JSON.parse(out.subarray(4, 4 + headLength).toString()) as { name: string; type: string; dims: number[]; bytes: number }[];
  const result: Record<string, TensorData> = {};
  let at = 4 + headLength;
  for (const t of head) {
    if (!isTensorType(t.type)) throw new Error(`${label}: output '${t.name}' has element type ${t.type}; effnet's runtime handles ${TENSOR_TYPES.join(', ')}`);
    if (at + t.bytes > out.length) throw new Error(`${label}: the onnxruntime child wrote ${out.length} bytes, fewer than its header announces`);
    result[t.name] = tensorFromBytes(t.type, out.subarray(at, at + t.bytes), t.dims);
    at += t.bytes;
  }
  if (at !== out.length) throw new Error(`${label}: the onnxruntime child wrote ${out.length} bytes, expected ${at}`);
  return result;
}
