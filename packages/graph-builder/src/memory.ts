/**
 * Memory a graph needs to run, from the shapes shape inference gave every value: the peak of the
 * activations alive at once when the nodes run one after another in graph order (a value lives
 * from the node that makes it to its last reader; graph inputs from the start, graph outputs to the
 * end), plus the initializers. An estimate of what a sequential runtime allocates, not a bound:
 * runtimes fuse nodes, run some in place and keep per-node scratch (im2col) buffers.
 */
import { DTYPES } from './dtype.js';
import { OptionError } from './errors.js';
import { describeValue, numel, type GraphIR, type Shape } from './ir.js';

export interface MemoryEstimate {
  /** Bytes of the activations alive at once at the worst node (inputs and outputs included). */
  readonly activationBytes: number;
  /** The node at which that peak is reached (undefined for a graph without nodes). */
  readonly peakNode: string | undefined;
  /** Bytes of the initializers (the weights). */
  readonly initializerBytes: number;
  /** Bytes of the largest single activation. */
  readonly largestBytes: number;
}

export interface MemoryOptions {
  /** Value of every symbolic dimension (the batch: 'N', 'batch', ...). Default 1. */
  readonly batch?: number;
}

/**
 * {@link MemoryEstimate} of running `ir` once with every symbolic dimension set to `batch`. Values
 * without a known shape count as 0 bytes (a foreign file without value_info: run inferShapes first).
 */
export function estimateMemory(ir: GraphIR, o: MemoryOptions = {}): MemoryEstimate {
  const batch = o.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new OptionError('batch', `estimateMemory: batch must be a positive integer, got ${describeValue(batch)}`);
  const bytesOf = (dtype: keyof typeof DTYPES, shape: Shape): number => numel(shape.map((d) => (typeof d === 'number' ? d : batch))) * DTYPES[dtype].bytes;
  const size = new Map<string, number>();
  for (const v of [...ir.inputs, ...ir.values, ...ir.outputs]) size.set(v.name, bytesOf(v.dtype, v.shape));
  const inits = new Set(ir.initializers.map((i) => i.name));
  const lastUse = new Map<string, number>();
  ir.nodes.forEach((n, i) => {
    for (const x of n.inputs) if (x !== '' && !inits.has(x)) lastUse.set(x, i);
  });
  const outputs = new Set(ir.outputs.map((v) => v.name));
  let live = ir.inputs.reduce((p, v) => p + (size.get(v.name) ?? 0), 0);
  let peak = live;
  let peakNode: string | undefined;
  let largest = 0;
  ir.nodes.forEach((n, i) => {
    for (const y of n.outputs) {
      const b = size.get(y) ?? 0;
      live += b;
      largest = Math.max(largest, b);
    }
    if (live > peak) {
      peak = live;
      peakNode = n.name;
    }
    const freed = new Set<string>();
    for (const x of [...n.inputs, ...n.outputs])
      if (x !== '' && !inits.has(x) && !outputs.has(x) && (lastUse.get(x) ?? -1) <= i && !freed.has(x)) {
        freed.add(x);
        live -= size.get(x) ?? 0;
      }
  });
  const initializerBytes = ir.initializers.reduce((p, t) => p + numel(t.shape) * DTYPES[t.dtype].bytes, 0);
  return { activationBytes: peak, peakNode, initializerBytes, largestBytes: largest };
}

/** Bytes as people read them: '13.2 GB' (decimal units, as `free -h` and file managers show). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(0)} MB`;
  return `${Math.ceil(bytes / 1e3)} kB`;
}
