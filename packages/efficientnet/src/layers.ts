/** The few layer shapes the models are made of, over graph-builder ops. */
import { add, batchNorm, clip, conv, gemm, Graph, hardSigmoid, hardSwish, mul, relu, sigmoid, type Tensor } from '@effnet/graph-builder';
import type { Activation, Gate } from './arch.js';
import type { ParamKind, WeightSource } from './weights.js';

/**
 * 'symmetric': PyTorch-style fixed padding ((stride−1) + dilation·(k−1)) / 2 on each side.
 * 'same': TensorFlow "SAME", computed for the actual input size; may be asymmetric (more at the end).
 */
export type Padding = 'symmetric' | 'same';

/** Begin/end padding of one spatial dimension. */
export function padAmounts(size: number, kernel: number, stride: number, dilation: number, padding: Padding): [number, number] {
  if (padding === 'symmetric') {
    const p = Math.floor((stride - 1 + dilation * (kernel - 1)) / 2);
    return [p, p];
  }
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  const begin = Math.floor(total / 2);
  return [begin, total - begin];
}

export interface LayerOptions {
  readonly padding: Padding;
  readonly bnEps: number;
}

export interface ConvArgs {
  readonly stride?: number;
  readonly groups?: number;
  readonly bias?: boolean;
  readonly dilation?: number;
}

export class Layers {
  constructor(
    readonly g: Graph,
    readonly weights: WeightSource,
    readonly o: LayerOptions,
  ) {}

  param(name: string, shape: readonly number[], kind: ParamKind): Tensor {
    return this.g.initializer(name, 'float32', shape, this.weights.get(name, shape, kind));
  }

  /** k×k convolution `name` (weights `<name>.weight`) with padding per the model's family. */
  conv(x: Tensor, name: string, outChannels: number, kernel: number, a: ConvArgs = {}): Tensor {
    const stride = a.stride ?? 1,
      groups = a.groups ?? 1,
      dilation = a.dilation ?? 1;
    const inChannels = x.shape[1] as number;
    const w = this.param(`${name}.weight`, [outChannels, inChannels / groups, kernel, kernel], 'weight');
    const bias = a.bias ? this.param(`${name}.bias`, [outChannels], 'bias') : undefined;
    const [top, bottom] = padAmounts(x.shape[2] as number, kernel, stride, dilation, this.o.padding);
    const [left, right] = padAmounts(x.shape[3] as number, kernel, stride, dilation, this.o.padding);
    return conv(x, w, {
      ...(bias ? { bias } : {}),
      strides: [stride, stride],
      pads: [top, left, bottom, right],
      dilations: [dilation, dilation],
      group: groups,
      label: name,
    });
  }

  bn(x: Tensor, name: string): Tensor {
    const c = [x.shape[1] as number];
    return batchNorm(
      x,
      this.param(`${name}.weight`, c, 'bn.weight'),
      this.param(`${name}.bias`, c, 'bn.bias'),
      this.param(`${name}.running_mean`, c, 'bn.running_mean'),
      this.param(`${name}.running_var`, c, 'bn.running_var'),
      { epsilon: this.o.bnEps, label: name },
    );
  }

  /** SiLU (swish) as x · sigmoid(x): two standard ops every runtime has. */
  silu(x: Tensor, name: string): Tensor {
    return mul(x, sigmoid(x, { label: `${name}.sigmoid` }), { label: `${name}.silu` });
  }

  relu(x: Tensor, name: string): Tensor {
    return relu(x, { label: `${name}.relu` });
  }

  /** The activation a block string names, after the layer `name`. */
  act(x: Tensor, a: Activation, name: string): Tensor {
    switch (a) {
      case 'silu':
        return this.silu(x, name);
      case 'relu':
        return this.relu(x, name);
      case 'relu6':
        return clip(x, { min: 0, max: 6, label: `${name}.relu6` });
      case 'hardSwish':
        return hardSwish(x, { label: `${name}.hard_swish` });
    }
  }

  /** A squeeze-excite gate: sigmoid, or timm's hard_sigmoid relu6(x + 3) / 6. */
  gate(x: Tensor, g: Gate, name: string): Tensor {
    return g === 'sigmoid' ? sigmoid(x, { label: name }) : hardSigmoid(x, { alpha: 1 / 6, beta: 0.5, label: name });
  }

  /** Fully connected: y = x · Wᵀ + b with W stored [out, in] as PyTorch does. */
  linear(x: Tensor, name: string, outFeatures: number): Tensor {
    const w = this.param(`${name}.weight`, [outFeatures, x.shape[1] as number], 'weight');
    const b = this.param(`${name}.bias`, [outFeatures], 'bias');
    return gemm(x, w, { c: b, transB: true, label: name });
  }

  add(a: Tensor, b: Tensor, name: string): Tensor {
    return add(a, b, { label: name });
  }
}
