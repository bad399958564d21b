import type { GraphIR, ValueInfo } from '../ir.js';
import { NAME_RE } from '../names.js';

/** Renames values (graph inputs/outputs included) everywhere they appear. */
export function renameValues(ir: GraphIR, names: Readonly<Record<string, string>>): GraphIR {
  const map = new Map(Object.entries(names).filter(([a, b]) => a !== b));
  if (map.size === 0) return ir;
  const taken = new Set([...ir.inputs, ...ir.outputs, ...ir.values, ...ir.initializers].map((v) => v.name));
  for (const [from, to] of map) {
    if (!taken.has(from)) throw new Error(`cannot rename '${from}': no such value in graph '${ir.name}'`);
    if (taken.has(to) && !map.has(to)) throw new Error(`cannot rename '${from}' to '${to}': name already used`);
    if (!NAME_RE.test(to)) throw new Error(`invalid tensor name '${to}'`);
  }
  const r = (n: string): string => map.get(n) ?? n;
  const rv = (v: ValueInfo): ValueInfo => ({ ...v, name: r(v.name) });
  return {
    ...ir,
    inputs: ir.inputs.map(rv),
    outputs: ir.outputs.map(rv),
    values: ir.values.map(rv),
    initializers: ir.initializers.map((i) => ({ ...i, name: r(i.name) })),
    nodes: ir.nodes.map((n) => ({ ...n, inputs: n.inputs.map((i) => (i ? r(i) : i)), outputs: n.outputs.map(r) })),
  };
}
