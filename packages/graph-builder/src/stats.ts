import { isFloat } from './dtype.js';
import type { Dim, GraphIR, NodeIR, Shape } from './ir.js';
import { numel } from './ir.js';

/** Inputs of these ops that are not trainable parameters: BatchNorm running mean/var, Pad's fill value, Clip's bounds. */
const BUFFER_INPUTS: Readonly<Record<string, readonly number[]>> = { BatchNormalization: [3, 4], Pad: [2], Clip: [1, 2], QuantizeLinear: [1, 2], DequantizeLinear: [1, 2] };

/** Size of a dimension for one image: symbolic dims (the batch) count as 1. */
const one = (d: Dim): number => (typeof d === 'number' ? d : 1);
const count = (s: Shape): number => s.reduce<number>((p, d) => p * one(d), 1);

export interface GraphStats {
  /** Trainable parameters as PyTorch counts them: float initializers, BN running stats excluded. */
  readonly params: number;
  /** Multiply-adds of Conv, Gemm and MatMul for one image (the paper's "FLOPS"); a fixed batch (first input's first dim) is divided out. */
  readonly macs: number;
  /** False when some Conv/Gemm/MatMul shapes were unknown (a file without value_info): macs is then a lower bound. */
  readonly macsComplete: boolean;
  /** Node count per op type. */
  readonly ops: Readonly<Record<string, number>>;
  readonly nodes: number;
}

export function shapeTable(ir: GraphIR): Map<string, Shape> {
  const m = new Map<string, Shape>();
  for (const v of [...ir.inputs, ...ir.values, ...ir.outputs]) m.set(v.name, v.shape);
  for (const i of ir.initializers) m.set(i.name, i.shape);
  return m;
}

export function nodeMacs(n: NodeIR, shapes: ReadonlyMap<string, Shape>): number {
  const sh = (name: string | undefined): Shape => {
    const s = name ? shapes.get(name) : undefined;
    if (!s) throw new Error(`${n.op} '${n.name}': no shape known for '${name}'`);
    return s;
  };
  switch (n.op) {
    case 'Conv': {
      const w = sh(n.inputs[1]);
      return count(sh(n.outputs[0])) * count(w.slice(1));
    }
    case 'Gemm': {
      const a = sh(n.inputs[0]);
      const out = sh(n.outputs[0]);
      const transA = n.attrs.transA?.kind === 'int' && n.attrs.transA.value === 1;
      const k = one(transA ? a[0]! : a[1]!);
      return count(out) * k;
    }
    case 'MatMul': {
      const a = sh(n.inputs[0]);
      return count(sh(n.outputs[0])) * one(a[a.length - 1]!);
    }
    default:
      return 0;
  }
}

export function graphStats(ir: GraphIR): GraphStats {
  const buffers = new Set<string>();
  for (const n of ir.nodes) for (const i of Object.hasOwn(BUFFER_INPUTS, n.op) ? BUFFER_INPUTS[n.op]! : []) if (n.inputs[i]) buffers.add(n.inputs[i]!);
  // Quantized weights (int8/int32 initializers a DequantizeLinear reads) count like the float ones they replace.
  const quantized = new Set(ir.nodes.filter((n) => n.op === 'DequantizeLinear').map((n) => n.inputs[0]!));
  let params = 0;
  for (const init of ir.initializers) if ((isFloat(init.dtype) || quantized.has(init.name)) && !buffers.has(init.name)) params += numel(init.shape);
  const shapes = shapeTable(ir);
  let macs = 0;
  let macsComplete = true;
  // A Map, not an object: op types come from files and may be '__proto__' or 'toString'.
  const ops = new Map<string, number>();
  for (const n of ir.nodes) {
    try {
      macs += nodeMacs(n, shapes);
    } catch {
      macsComplete = false;
    }
    ops.set(n.op, (ops.get(n.op) ?? 0) + 1);
  }
  // A graph with a fixed batch (input [8, 3, H, W]) counts the whole batch: report one image, as for 'N'.
  const batch = ir.inputs[0]?.shape[0];
  if (typeof batch === 'number' && batch > 1 && (ir.inputs[0]?.shape.length ?? 0) >= 2) macs /= batch;
  return { params, macs, macsComplete, ops: Object.fromEntries(ops), nodes: ir.nodes.length };
}
