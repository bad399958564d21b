/**
 * AmoebaNet-B(N, F) (Real et al., 2019), the network GPipe (Huang et al., 2019) scaled to
 * AmoebaNet-B(18, 512) — 557M parameters at 480×480 — and the model EfficientNet-B7 is compared
 * with. Built by the rules of the public TensorFlow reference, tensorflow/tpu
 * `models/official/amoeba_net` (model_specs.py, network_utils.py, model_builder.py):
 *
 * - ImageNet stem: 3×3 conv, stride 2, VALID padding, 32 filters, BN (no ReLU), then two
 *   reduction cells ("stem cells") with F/4 and F/2 filters.
 * - N normal cells in total; a reduction cell (stride 2, filters ×2) before normal cells
 *   ⌊N/3⌋ and ⌊2N/3⌋ (`calc_reduction_layers` with 2 reduction layers).
 * - Every cell: the previous-previous output is matched to the cell's filter count (ReLU +
 *   factorized reduction if its spatial size differs, else ReLU + 1×1 conv + BN if its channels
 *   differ); the input goes through ReLU + 1×1 conv + BN. Five combinations each add two
 *   operations applied to earlier hidden states; the hidden states no combination used are
 *   concatenated (channels) to form the output. Only ops on the two cell inputs are strided.
 * - Ops (ReLU-conv-BN order): separable k×k ×2 = (ReLU, depthwise k×k, pointwise 1×1, BN) twice,
 *   only the first strided; '3x3' = bottleneck 1×1 to F/4, 3×3, 1×1 back to F; '1x1' and 'none'
 *   (when it must stride or change channels) = ReLU, 1×1 conv (strided), BN; pooling with SAME
 *   padding, followed by 1×1 conv + BN only when the channel count differs.
 * - TF "SAME" padding everywhere except the stem conv; BN epsilon 1e-3 with scale and centre;
 *   convs have no bias. Head: ReLU, global average pool, (dropout: identity at inference), FC.
 * - Not in the graph: the auxiliary head (training only) and drop path (training only).
 * - 'dil_2_separable_5x5_2' is built as the reference builds it: its op-string parser reads only
 *   the kernel size (5) and the layer count (2), so the convs are not dilated.
 *
 * Parameter names mirror the TF variable scopes with dots, in PyTorch style: TF `<scope>/weights`
 * → `<scope>.weight` (conv kernels stored OIHW), separable `depthwise_weights` /
 * `pointwise_weights` → `<scope>.depthwise.weight` [C,1,k,k] / `<scope>.pointwise.weight`
 * [out,C,1,1], BN `gamma/beta/moving_mean/moving_variance` → `.weight/.bias/.running_mean/
 * .running_var`, `final_layer/FC/weights|biases` → `final_layer.FC.weight` [classes, C] / `.bias`.
 * E.g. `cell_0.comb_iter_1.right.separable_3x3_2.pointwise.weight`, `cell_stem_1.path2_conv.weight`.
 */
import { averagePool, concat, conv, flatten, globalAveragePool, Graph, maxPool, OptionError, pad, type Dim, type GraphIR, type Tensor } from '@effnet/graph-builder';
import type { StageRow } from './efficientnet.js';
import { Layers, padAmounts } from './layers.js';
import type { WeightSource } from './weights.js';

/** One cell of model_specs.py: 10 operations on pairs of hidden states, and which states were used. */
export interface CellSpec {
  readonly operations: readonly string[];
  /** Hidden state each operation reads: 0 = the cell's input, 1 = the output before it, 2.. = combinations. */
  readonly hiddenStateIndices: readonly number[];
  /** 1 for states some combination read; the others are concatenated into the cell's output. */
  readonly usedHiddenStates: readonly number[];
}

/** AmoebaNet-B ('evol_net_h' / 'amoeba_net_b' in model_specs.py). */
export const AMOEBANET_B_NORMAL: CellSpec = {
  operations: ['1x1', 'max_pool_3x3', 'none', 'separable_3x3_2', '1x1', 'separable_3x3_2', '1x1', 'none', 'avg_pool_3x3', '1x1'],
  hiddenStateIndices: [1, 1, 1, 0, 1, 0, 2, 2, 1, 5],
  usedHiddenStates: [0, 1, 1, 0, 0, 1, 0],
};

export const AMOEBANET_B_REDUCTION: CellSpec = {
  operations: ['max_pool_2x2', 'max_pool_3x3', 'none', '3x3', 'dil_2_separable_5x5_2', 'max_pool_3x3', 'none', 'separable_3x3_2', 'avg_pool_3x3', '1x1'],
  hiddenStateIndices: [0, 0, 2, 1, 2, 2, 3, 1, 4, 3],
  usedHiddenStates: [1, 1, 1, 1, 1, 0, 0],
};

/** Filters of the ImageNet stem conv (`stem_reduction_size`). */
export const AMOEBANET_STEM_FILTERS = 32;
const NUM_STEM_CELLS = 2;
const NUM_REDUCTION_LAYERS = 2;
const FILTER_SCALING_RATE = 2;

export interface AmoebaNetConfig {
  readonly name: string;
  /** N: normal cells in total, over the three stacks (the reference's `num_cells`). */
  readonly cells: number;
  /** F: filters of the first stack's cells (the reference's `reduction_size`). */
  readonly filters: number;
  readonly resolution: number;
  readonly numClasses: number;
  readonly batch: Dim;
  readonly weights: WeightSource;
  /** BatchNorm epsilon; the reference's `batch_norm_epsilon` is 1e-3. */
  readonly bnEps?: number;
}

/** Normal-cell indices before which a reduction cell goes (network_utils.calc_reduction_layers). */
export function reductionLayers(numCells: number, numReductionLayers = NUM_REDUCTION_LAYERS): number[] {
  const out: number[] = [];
  for (let k = 1; k <= numReductionLayers; k++) out.push(Math.floor((k / (numReductionLayers + 1)) * numCells));
  return out;
}

const channels = (x: Tensor): number => x.shape[1] as number;
const height = (x: Tensor): number => x.shape[2] as number;

/**
 * Halves the spatial size without losing the odd pixels: two 1×1 convs with stride 2, one on the
 * input and one on the input shifted by one pixel (right/bottom zero padded), concatenated, BN.
 * Stride 1 is a 1×1 conv + BN. (network_utils.factorized_reduction; the reference's 1×1 VALID
 * average pool followed by a 1×1 conv is the same as one strided 1×1 conv.)
 */
export function factorizedReduction(L: Layers, x: Tensor, scope: string, filters: number, stride: number): Tensor {
  if (filters % 2 !== 0) throw new OptionError('filters', `${scope}: factorized reduction needs an even filter count, got ${filters}`);
  if (stride === 1) return L.bn(L.conv(x, `${scope}.path_conv`, filters, 1), `${scope}.path_bn`);
  const path1 = L.conv(x, `${scope}.path1_conv`, filters / 2, 1, { stride });
  // x[:, :, 1:, 1:] followed by a zero row and column: Pad with -1 at the start, +1 at the end.
  const shifted = pad(x, [0, 0, -1, -1, 0, 0, 1, 1], { label: `${scope}.path2_shift` });
  const path2 = L.conv(shifted, `${scope}.path2_conv`, filters / 2, 1, { stride });
  return L.bn(concat([path1, path2], 1, { label: `${scope}.path_concat` }), `${scope}.final_path_bn`);
}

function reluConvBn(L: Layers, x: Tensor, convName: string, bnName: string, filters: number, kernel: number, stride = 1): Tensor {
  return L.bn(L.conv(L.relu(x, convName), convName, filters, kernel, { stride }), bnName);
}

/** 'separable_3x3_2' → kernel 3, 2 layers (network_utils._operation_to_info). */
function separableInfo(op: string): { kernel: number; layers: number } {
  const m = /(\d)x(\d)_(\d+)$/.exec(op);
  if (!m || m[1] !== m[2]) throw new Error(`AmoebaNet op '${op}': expected a square separable op like 'separable_3x3_2'`);
  return { kernel: Number(m[1]), layers: Number(m[3]) };
}

function stackedSeparableConv(L: Layers, x: Tensor, scope: string, op: string, filters: number, stride: number): Tensor {
  const { kernel: k, layers } = separableInfo(op);
  let y = x;
  for (let l = 1; l <= layers; l++) {
    const name = `${scope}.separable_${k}x${k}_${l}`;
    y = L.relu(y, name);
    y = L.conv(y, `${name}.depthwise`, channels(y), k, { stride: l === 1 ? stride : 1, groups: channels(y) });
    y = L.conv(y, `${name}.pointwise`, filters, 1);
    y = L.bn(y, `${scope}.bn_sep_${k}x${k}_${l}`);
  }
  return y;
}

function pooling(x: Tensor, scope: string, op: string, stride: number): Tensor {
  const m = /^(avg|max)_pool_(\d)x(\d)$/.exec(op);
  if (!m || m[2] !== m[3]) throw new Error(`AmoebaNet op '${op}': expected 'avg_pool_KxK' or 'max_pool_KxK'`);
  const k = Number(m[2]);
  const [top, bottom] = padAmounts(height(x), k, stride, 1, 'same');
  const [left, right] = padAmounts(x.shape[3] as number, k, stride, 1, 'same');
  const o = { kernel: [k, k], strides: [stride, stride], pads: [top, left, bottom, right], label: `${scope}.${m[1]}_pool` };
  return m[1] === 'avg' ? averagePool(x, o) : maxPool(x, o);
}

/** BaseCell._apply_operation (drop path omitted: training only). */
function applyOperation(L: Layers, x: Tensor, scope: string, op: string, stride: number, filters: number): Tensor {
  const inChannels = channels(x);
  if (op.includes('separable')) return stackedSeparableConv(L, x, scope, op, filters, stride);
  if (op === '3x3') {
    const reduced = Math.floor(filters / 4);
    if (reduced < 1) return reluConvBn(L, x, `${scope}.3x3`, `${scope}.bn`, filters, 3, stride);
    let y = reluConvBn(L, x, `${scope}.pre_1x1`, `${scope}.pre_bn`, reduced, 1);
    y = reluConvBn(L, y, `${scope}.3x3`, `${scope}.bn`, reduced, 3, stride);
    return reluConvBn(L, y, `${scope}.post_1x1`, `${scope}.post_bn`, filters, 1);
  }
  if (op === 'none' || op === '1x1') {
    if (stride > 1 || op === '1x1' || inChannels !== filters) return reluConvBn(L, x, `${scope}.1x1`, `${scope}.bn_1`, filters, 1, stride);
    return x;
  }
  if (op.includes('pool')) {
    const y = pooling(x, scope, op, stride);
    return inChannels !== filters ? L.bn(L.conv(y, `${scope}.1x1`, filters, 1), `${scope}.bn_1`) : y;
  }
  throw new Error(`AmoebaNet op '${op}' is not implemented`);
}

/** Brings the previous-previous output to the cell's spatial size and filter count. */
function matchPrevious(L: Layers, prev: Tensor, net: Tensor, scope: string, filters: number): Tensor {
  if (height(prev) !== height(net)) return factorizedReduction(L, L.relu(prev, `${scope}.prev`), scope, filters, 2);
  if (channels(prev) !== filters) return reluConvBn(L, prev, `${scope}.prev_1x1`, `${scope}.prev_bn`, filters, 1);
  return prev;
}

/** BaseCell.__call__: one normal (stride 1) or reduction (stride 2) cell. */
function cell(L: Layers, net: Tensor, prevLayer: Tensor | undefined, scope: string, spec: CellSpec, filters: number, stride: number): Tensor {
  // _reduce_prev_layer. Without a previous-previous output (the first stem cell) the cell's raw
  // input is used as it is, with its own channel count.
  const prev = prevLayer === undefined ? net : matchPrevious(L, prevLayer, net, scope, filters);
  const states = [reluConvBn(L, net, `${scope}.1x1`, `${scope}.beginning_bn`, filters, 1), prev];
  for (let it = 0; it < 5; it++) {
    const side = (j: 0 | 1, name: 'left' | 'right'): Tensor => {
      const idx = spec.hiddenStateIndices[2 * it + j]!;
      const h = states[idx];
      if (!h) throw new Error(`${scope}: comb_iter_${it} reads hidden state ${idx}, which does not exist yet`);
      return applyOperation(L, h, `${scope}.comb_iter_${it}.${name}`, spec.operations[2 * it + j]!, idx < 2 ? stride : 1, filters);
    };
    states.push(L.add(side(0, 'left'), side(1, 'right'), `${scope}.comb_iter_${it}.combine`));
  }

  // _combine_unused_states: bring every unused state to the last state's shape, concatenate.
  const last = states[states.length - 1]!;
  const unused = states.flatMap((h, idx) => {
    if (spec.usedHiddenStates[idx]) return [];
    if (height(h) === height(last) && channels(h) === channels(last)) return [h];
    const s = height(h) !== height(last) ? 2 : 1;
    return [factorizedReduction(L, h, `${scope}.cell_output.reduction_${idx}`, channels(last), s)];
  });
  return concat(unused, 1, { label: `${scope}.cell_output` });
}

function checkConfig(c: AmoebaNetConfig, normal: CellSpec, reduction: CellSpec): void {
  if (!Number.isInteger(c.cells) || c.cells < 1) throw new OptionError('cells', `AmoebaNet --cells must be a positive integer, got ${c.cells}`);
  // The stem's second cell reduces the stem conv output to F/2 filters and the first normal cell
  // its predecessor to F, both by factorized reduction, which splits the filters in two halves.
  if (!Number.isInteger(c.filters) || c.filters < 4 || c.filters % 4 !== 0)
    throw new OptionError('filters', `AmoebaNet --filters must be a multiple of 4 (factorized reduction halves F and F/2), got ${c.filters}`);
  for (const [what, s] of [
    ['normal', normal],
    ['reduction', reduction],
  ] as const) {
    if (s.operations.length !== 10 || s.hiddenStateIndices.length !== 10 || s.usedHiddenStates.length !== 7)
      throw new Error(`AmoebaNet ${what} cell: needs 10 operations, 10 hidden-state indices and 7 used flags`);
  }
}

/** Adds one row, or extends the previous row when it is the same kind of cell. */
function addRow(rows: StageRow[], operator: string, input: Tensor, output: Tensor): void {
  const prev = rows[rows.length - 1];
  if (prev && prev.operator === operator) {
    rows[rows.length - 1] = { ...prev, channels: channels(output), layers: prev.layers + 1 };
    return;
  }
  rows.push({ stage: rows.length, operator, resolution: [height(input), input.shape[3] as number], channels: channels(output), layers: 1 });
}

export interface AmoebaNetGraph {
  readonly ir: GraphIR;
  /** Stem, cell stacks and head, with input resolution and output channels. */
  readonly stages: readonly StageRow[];
}

export function amoebaNet(c: AmoebaNetConfig, normal: CellSpec = AMOEBANET_B_NORMAL, reduction: CellSpec = AMOEBANET_B_REDUCTION): AmoebaNetGraph {
  checkConfig(c, normal, reduction);
  const g = new Graph(c.name);
  const L = new Layers(g, c.weights, { padding: 'same', bnEps: c.bnEps ?? 1e-3 });
  const rows: StageRow[] = [];
  const input = g.input('input', 'float32', [c.batch, 3, c.resolution, c.resolution]);

  // _imagenet_stem: VALID 3×3 stride-2 conv + BN, then the stem reduction cells.
  const w = L.param('stem.conv0.weight', [AMOEBANET_STEM_FILTERS, 3, 3, 3], 'weight');
  let net = L.bn(conv(input, w, { strides: [2, 2], pads: [0, 0, 0, 0], label: 'stem.conv0' }), 'stem.conv0_bn');
  addRow(rows, 'Conv3x3/2 (VALID), BN', input, net);
  const outputs: (Tensor | undefined)[] = [undefined, net];
  let scaling = 1 / FILTER_SCALING_RATE ** NUM_STEM_CELLS;
  for (let i = 0; i < NUM_STEM_CELLS; i++) {
    const x = net;
    net = cell(L, x, outputs[outputs.length - 2], `cell_stem_${i}`, reduction, Math.floor(c.filters * scaling), 2);
    addRow(rows, 'Reduction cell (stem)', x, net);
    outputs.push(net);
    scaling *= FILTER_SCALING_RATE;
  }

  const reductions = reductionLayers(c.cells);
  scaling = 1;
  for (let i = 0; i < c.cells; i++) {
    if (reductions.includes(i)) {
      scaling *= FILTER_SCALING_RATE;
      const x = net;
      net = cell(L, x, outputs[outputs.length - 2], `reduction_cell_${reductions.indexOf(i)}`, reduction, Math.floor(c.filters * scaling), 2);
      addRow(rows, 'Reduction cell', x, net);
      outputs.push(net);
    }
    const x = net;
    net = cell(L, x, outputs[outputs.length - 2], `cell_${i}`, normal, Math.floor(c.filters * scaling), 1);
    addRow(rows, 'Normal cell', x, net);
    outputs.push(net);
  }

  const pooled = flatten(globalAveragePool(L.relu(net, 'final_layer'), { label: 'final_layer.pool' }), { label: 'final_layer.flatten' });
  const logits = L.linear(pooled, 'final_layer.FC', c.numClasses);
  rows.push({ stage: rows.length, operator: 'ReLU, pool, FC', resolution: [height(net), net.shape[3] as number], channels: c.numClasses, layers: 1 });
  g.output(logits, 'logits');
  return { ir: g.build(), stages: rows };
}
