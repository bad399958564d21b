import { describe, expect, it } from 'vitest';
import { Graph } from './graph.js';
import { add, relu } from './ops.js';
import { estimateMemory, formatBytes } from './memory.js';

/** x → a = relu(x) → b = relu(a) → y = add(a, b): `a` lives until the Add, `x` dies after the first ReLU. */
function chain() {
  const g = new Graph('chain');
  const x = g.input('x', 'float32', ['N', 4, 8, 8]);
  g.initializer('unused', 'float32', [10], new Float32Array(10));
  const a = relu(x, { label: 'r1' });
  const b = relu(a, { label: 'r2' });
  g.output(add(a, b, { label: 'sum' }), 'y');
  return g.build();
}

describe('estimateMemory', () => {
  it('peak of the activations alive at once, in node order, with the batch substituted; initializers apart', () => {
    const one = 4 * 8 * 8 * 4; // bytes of one [1,4,8,8] float32 tensor
    const e = estimateMemory(chain(), { batch: 3 });
    // r1: x + a; r2: a + b (x freed); sum: a + b + y = 3 tensors.
    expect(e.activationBytes).toBe(3 * 3 * one);
    expect(e.peakNode).toBe('sum');
    expect(e.largestBytes).toBe(3 * one);
    expect(e.initializerBytes).toBe(40);
    expect(estimateMemory(chain()).activationBytes).toBe(3 * one);
    expect(() => estimateMemory(chain(), { batch: 0 })).toThrow(/batch must be a positive integer, got number 0/);
  });

  it('formats bytes in decimal units', () => {
    expect([formatBytes(11.06e9), formatBytes(600e6), formatBytes(1500)]).toEqual(['11.1 GB', '600 MB', '2 kB']);
  });
});
