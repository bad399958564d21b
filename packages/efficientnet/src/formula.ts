/**
 * The deterministic weight formula shared with the reference fixtures (../shared/fixtures):
 * every value depends only on the tensor's name and flat index, bit-exact in float64.
 */

export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Uniform in [0, 1): u(name, i). */
export function uniform(name: string, i: number): number {
  return fmix32((fnv1a32(name) + Math.imul(i, 0x9e3779b9)) >>> 0) / 2 ** 32;
}

function fillScaled(name: string, n: number, amplitude: number): Float32Array {
  const out = new Float32Array(n);
  const h = fnv1a32(name);
  for (let i = 0; i < n; i++) out[i] = (2 * (fmix32((h + Math.imul(i, 0x9e3779b9)) >>> 0) / 2 ** 32) - 1) * amplitude;
  return out;
}

/** fill(name, shape): uniform in ±sqrt(3 / fan_in) for rank >= 2, ±0.1 otherwise. */
export function fill(name: string, shape: readonly number[]): Float32Array {
  const n = shape.reduce((p, d) => p * d, 1);
  const amplitude = shape.length >= 2 ? Math.sqrt(3 / shape.slice(1).reduce((p, d) => p * d, 1)) : 0.1;
  return fillScaled(name, n, amplitude);
}

/** The fixtures' input tensor: uniform in ±2. */
export function formulaInput(shape: readonly number[]): Float32Array {
  return fillScaled(
    'input',
    shape.reduce((p, d) => p * d, 1),
    2.0,
  );
}
