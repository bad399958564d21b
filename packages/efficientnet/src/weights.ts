import type { DataSource } from '@effnet/graph-builder';
import { fill } from './formula.js';

/** What a parameter is, so a source can give sensible defaults. */
export type ParamKind = 'weight' | 'bias' | 'bn.weight' | 'bn.bias' | 'bn.running_mean' | 'bn.running_var';

/**
 * Supplies the data of every parameter a model builder creates, by the model's own parameter
 * name (timm naming for EfficientNet, torchvision for ResNet).
 */
export interface WeightSource {
  get(name: string, shape: readonly number[], kind: ParamKind): DataSource;
}

const constant = (n: number, v: number) => () => new Float32Array(n).fill(v);

/**
 * Deterministic default weights: conv/linear weights and biases from the fixture formula
 * (uniform ±√(3/fan_in), seeded by name), BatchNorm as identity (γ=1, β=0, μ=0, σ²=1).
 * Generated lazily, so `info` never computes them and export streams them.
 */
export const defaultWeights: WeightSource = {
  get(name, shape, kind) {
    const n = shape.reduce((p, d) => p * d, 1);
    switch (kind) {
      case 'bn.weight':
      case 'bn.running_var':
        return constant(n, 1);
      case 'bn.bias':
      case 'bn.running_mean':
        return constant(n, 0);
      default:
        return () => fill(name, shape);
    }
  },
};
