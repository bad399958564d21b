/**
 * The deployment passes: graph rewrites that make a built classifier a file another runtime can
 * use as it comes (issue #20): backbone outputs (`--features`, `--head none`), symbolic H and W
 * (`--dynamic-size`), a channels-last input (`--layout nhwc`), the eval transform inside the graph
 * (`--embed-preprocessing`) and a finished head (`--outputs probs|topk:K`). Each is a pure function
 * GraphIR → GraphIR; the pass table (passes.ts) declares their flags, checks and metadata.
 */
import {
  cast,
  div,
  Graph,
  mod,
  mul,
  OptionError,
  reduceMin,
  resize,
  shape,
  slice,
  sliceAt,
  softmax,
  sub,
  add,
  topK,
  transpose,
  renameValues,
  type Dim,
  type GraphIR,
  type NodeIR,
  type Tensor,
  type ValueInfo,
} from '@effnet/graph-builder';
import { shapes } from '@effnet/graph-builder';

/** What a deployment pass needs to know of the built model beyond its graph. */
export interface PassContext {
  readonly model: string;
  /** timm feature_info taps (absent: the model has none, e.g. AmoebaNet). */
  readonly features?: readonly { readonly module: string; readonly tensor: string; readonly channels: number; readonly reduction: number }[];
  readonly embedding?: string;
  /** The padding rule of every conv; absent for families that do not declare one. */
  readonly padding?: 'same' | 'symmetric';
  readonly resolution: number;
  readonly numClasses: number;
  readonly preprocess: { readonly mean: readonly number[]; readonly std: readonly number[]; readonly cropPct: number; readonly interpolation: string };
}

/** Largest side of a picture an embedded-preprocessing file accepts (as effnet's image decoders). */
export const MAX_IMAGE_SIDE = 16384;

/** The graph keeping only what `outputs` need (nodes, initializers, value_info). */
function prune(ir: GraphIR, outputs: readonly ValueInfo[]): GraphIR {
  const need = new Set(outputs.map((o) => o.name));
  const nodes: NodeIR[] = [];
  for (let i = ir.nodes.length - 1; i >= 0; i--) {
    const n = ir.nodes[i]!;
    if (!n.outputs.some((o) => need.has(o))) continue;
    nodes.push(n);
    for (const x of n.inputs) if (x) need.add(x);
  }
  nodes.reverse();
  const outNames = new Set(outputs.map((o) => o.name));
  return {
    ...ir,
    outputs,
    nodes,
    initializers: ir.initializers.filter((t) => need.has(t.name)),
    values: ir.values.filter((v) => need.has(v.name) && !outNames.has(v.name)),
  };
}

/** The value_info (or output) of `name`. */
function valueOf(ir: GraphIR, name: string): ValueInfo {
  const v = [...ir.values, ...ir.outputs, ...ir.inputs].find((x) => x.name === name);
  if (!v) throw new Error(`graph '${ir.name}': no value '${name}'`);
  return v;
}

/**
 * Backbone outputs: `features.I` for each index of `indices` (timm out_indices) and/or `embedding`
 * (timm pre_logits); the classifier and everything after the last tap is dropped.
 */
export function backboneOutputs(ir: GraphIR, ctx: PassContext, o: { readonly features?: readonly number[]; readonly embedding?: boolean }): GraphIR {
  const rename: Record<string, string> = {};
  const outs: string[] = [];
  /** Taps the rest of the backbone reads: given their output name by an Identity, so later passes see a terminal output. */
  const copies: NodeIR[] = [];
  if (o.features) {
    const taps = ctx.features;
    if (!taps || taps.length === 0)
      throw new OptionError('features', `--features: ${ctx.model} has no feature taps (timm features_only covers the EfficientNet, V2, Lite, MobileNet, MnasNet and ResNet families)`);
    for (const i of o.features) {
      const t = taps[i];
      if (!t) throw new OptionError('features', `--features ${i}: ${ctx.model} has taps 0..${taps.length - 1}`);
      copies.push({ op: 'Identity', name: `features.${i}`, inputs: [t.tensor], outputs: [`features.${i}`], attrs: {} });
      outs.push(`features.${i}`);
    }
  }
  if (o.embedding) {
    if (!ctx.embedding) throw new OptionError('head', `--head none: ${ctx.model} does not name its pooled embedding`);
    rename[ctx.embedding] = 'embedding';
    outs.push('embedding');
  }
  const renamed = renameValues(ir, rename);
  const copied: GraphIR = {
    ...renamed,
    nodes: [...renamed.nodes, ...copies],
    values: [...renamed.values, ...copies.map((c) => ({ ...valueOf(renamed, c.inputs[0]!), name: c.outputs[0]! }))],
  };
  return prune(
    copied,
    outs.map((n) => valueOf(copied, n)),
  );
}

/** timm feature_info of the kept taps, for the metadata. */
export function featureInfo(ctx: PassContext, indices: readonly number[]): { index: number; num_chs: number; reduction: number; module: string }[] {
  return indices.map((i) => {
    const t = ctx.features?.[i];
    if (!t) throw new OptionError('features', `--features ${i}: ${ctx.model} has taps 0..${(ctx.features?.length ?? 0) - 1}`);
    return { index: i, num_chs: t.channels, reduction: t.reduction, module: t.module };
  });
}

const isSymbolic = (v: ValueInfo) => v.shape.some((d, i) => i > 0 && typeof d !== 'number');

/**
 * H and W symbolic: convs of TF-"SAME" models get `auto_pad SAME_UPPER` (TF's rule for any size;
 * checked against the pads computed at the built size), the input becomes [N,3,H,W] (NHWC: [N,H,W,3])
 * and value_info of spatial tensors is dropped (their sizes now depend on the input). The
 * classifier head (global pooling) already takes any size.
 */
export function dynamicSize(ir: GraphIR, ctx: PassContext): GraphIR {
  if (!ctx.padding) throw new OptionError('dynamicSize', `--dynamic-size: ${ctx.model} computes its padding for one input size (no family padding rule); export it at a fixed --resolution`);
  const types = new Map([...ir.inputs, ...ir.values, ...ir.outputs].map((v) => [v.name, v]));
  const nodes = ir.nodes.map((n) => {
    if (n.op === 'Pad' || n.op === 'AveragePool' || (n.op === 'MaxPool' && ctx.padding === 'same') || n.op === 'Reshape')
      throw new OptionError('dynamicSize', `--dynamic-size: node '${n.name}' (${n.op}) of ${ctx.model} depends on the input size`);
    if (n.op !== 'Conv' || ctx.padding !== 'same') return n;
    const x = types.get(n.inputs[0]!);
    const w = ir.initializers.find((t) => t.name === n.inputs[1]) ?? types.get(n.inputs[1]!);
    const pads = n.attrs.pads?.kind === 'ints' ? n.attrs.pads.value : [0, 0, 0, 0];
    const strides = n.attrs.strides?.kind === 'ints' ? n.attrs.strides.value : [1, 1];
    const dil = n.attrs.dilations?.kind === 'ints' ? n.attrs.dilations.value : [1, 1];
    if (!x || !w) throw new Error(`--dynamic-size: conv '${n.name}' has no known input shape`);
    const k = w.shape.slice(2) as number[];
    const expect = [0, 1].map((i) => shapes.samePadding(x.shape[2 + i] as number, k[i]!, strides[i]!, dil[i]!));
    const same = [expect[0]![0], expect[1]![0], expect[0]![1], expect[1]![1]];
    if (same.join() !== pads.join()) throw new Error(`--dynamic-size: conv '${n.name}' pads [${pads.join(',')}] are not TF SAME [${same.join(',')}]`);
    const { pads: _p, ...attrs } = n.attrs;
    return { ...n, attrs: { ...attrs, auto_pad: { kind: 'string' as const, value: 'SAME_UPPER' } } };
  });
  const sym = (v: ValueInfo): ValueInfo => {
    if (v.shape.length !== 4) return v;
    const nhwc = v.shape[3] === 3 && v.shape[1] !== 3;
    const [h, w] = ir.inputs.includes(v) ? ['H', 'W'] : [`${v.name}.H`, `${v.name}.W`];
    const shape: Dim[] = nhwc ? [v.shape[0]!, h, w, 3] : [v.shape[0]!, v.shape[1]!, h, w];
    return { ...v, shape };
  };
  return { ...ir, nodes, inputs: ir.inputs.map(sym), outputs: ir.outputs.map(sym), values: ir.values.filter((v) => v.shape.length < 3) };
}

/** Joins `pre` (its output named as `ir`'s input) before `ir`: the file's inputs become `pre`'s. */
function prepend(ir: GraphIR, pre: GraphIR): GraphIR {
  const input = ir.inputs[0]!.name;
  if (pre.outputs.length !== 1 || pre.outputs[0]!.name !== input) throw new Error(`prepend: the front graph must output '${input}'`);
  return {
    ...ir,
    inputs: pre.inputs,
    nodes: [...pre.nodes, ...ir.nodes],
    initializers: [...pre.initializers, ...ir.initializers],
    // Computed-size values (symbolic dims of the front graph) are left to the runtime's inference.
    values: [...pre.values.filter((v) => !isSymbolic(v)), ...ir.inputs, ...ir.values],
    minOpset: Math.max(ir.minOpset, pre.minOpset),
  };
}

/** Joins `post` (reading `ir`'s one output by name) after `ir`: the file's outputs become `post`'s. */
function append(ir: GraphIR, post: GraphIR): GraphIR {
  return {
    ...ir,
    outputs: post.outputs,
    nodes: [...ir.nodes, ...post.nodes],
    initializers: [...ir.initializers, ...post.initializers],
    values: [...ir.values, ...ir.outputs, ...post.values],
    minOpset: Math.max(ir.minOpset, post.minOpset),
  };
}

/** A channels-last float input: `input` [N,H,W,3] transposed to the model's NCHW. */
export function nhwcInput(ir: GraphIR): GraphIR {
  const inp = ir.inputs[0]!;
  const [n, c, h, w] = inp.shape;
  const inner = renameValues(ir, { [inp.name]: `${inp.name}_nchw` });
  const g = new Graph(ir.name);
  const x = g.input(inp.name, inp.dtype, [n!, h!, w!, c!]);
  g.output(transpose(x, { perm: [0, 3, 1, 2], label: 'layout.nchw', output: `${inp.name}_nchw` }));
  return prepend(inner, g.build());
}

/**
 * timm's eval transform inside the graph: `image` uint8 [N,H,W,3] RGB of any size → shorter side
 * to floor(R / crop_pct) with the model's interpolation (PIL's antialiased filter: Resize-18 with
 * antialias, cubic_coeff_a −0.5, exclude_outside, half_pixel), centre crop R×R (Python round),
 * /255, mean/std, NCHW. Two resize passes on uint8, W then H, as PIL resamples (rounding to 8 bits
 * between them), with the crop's columns taken between the passes: the result matches PIL to one
 * grey level (/work/notes/embed-preprocessing.md, bench/embedded-preprocessing.py).
 */
export function embedPreprocessing(ir: GraphIR, ctx: PassContext): GraphIR {
  const inp = ir.inputs[0]!;
  const R = ctx.resolution;
  const S = Math.floor(R / ctx.preprocess.cropPct);
  const p = ctx.preprocess;
  const mode = p.interpolation === 'bilinear' ? 'linear' : p.interpolation === 'bicubic' ? 'cubic' : p.interpolation === 'nearest' ? 'nearest' : undefined;
  if (!mode) throw new OptionError('embedPreprocessing', `--embed-preprocessing: ${ctx.model}'s interpolation '${p.interpolation}' has no ONNX Resize mode`);
  const g = new Graph(ir.name);
  const image = g.input('image', 'uint8', [inp.shape[0]!, 'H', 'W', 3]);
  const c64 = (name: string, v: readonly number[]) => g.constant(`preprocess.${name}`, 'int64', [v.length], BigInt64Array.from(v.map(BigInt)));
  const L = (s: string) => ({ label: `preprocess.${s}` });
  const full = shape(image, L('shape'));
  const hw = slice(full, [1], [3], { axes: [0], ...L('hw') });
  const short = reduceMin(hw, [0], { keepDims: true, ...L('short_side') });
  // new = floor(hw * S / short) (torchvision: int(S * long / short), the short side exactly S).
  const size = div(mul(hw, c64('size', [S]), L('scaled')), short, L('new_hw'));
  // Crop start per axis: Python round((new - R) / 2), half to even: k + (d mod 2)·(k mod 2), k = d div 2.
  const d = sub(size, c64('crop', [R]), L('excess'));
  const two = c64('two', [2]);
  const k = div(d, two, L('half'));
  const start = add(k, mul(mod(d, two, L('excess_odd')), mod(k, two, L('half_odd')), L('round_even')), L('crop_start'));
  const end = add(start, c64('crop_len', [R]), L('crop_end'));
  const at = (t: Tensor, i: number, what: string) => slice(t, [i], [i + 1], { axes: [0], ...L(what) });
  const [top, left] = [at(start, 0, 'top'), at(start, 1, 'left')];
  const [bottom, right] = [at(end, 0, 'bottom'), at(end, 1, 'right')];
  const [newH, newW] = [at(size, 0, 'new_h'), at(size, 1, 'new_w')];
  const filter = { mode, antialias: true, excludeOutside: true, coordinateTransformationMode: 'half_pixel', ...(mode === 'cubic' ? { cubicCoeffA: -0.5 } : {}) } as const;
  // PIL order: the horizontal pass first, then the vertical one; uint8 between them.
  const wide = resize(image, newW, { ...filter, axes: [2], ...L('resize_w') });
  const cols = sliceAt(wide, left, right, [2], L('crop_w'));
  const tall = resize(cols, newH, { ...filter, axes: [1], ...L('resize_h') });
  const crop = sliceAt(tall, top, bottom, [1], L('crop_h'));
  const chw = transpose(cast(crop, 'float32', L('float')), { perm: [0, 3, 1, 2], ...L('nchw') });
  const scale = g.constant('preprocess.scale', 'float32', [1, 3, 1, 1], Float32Array.from(p.std.map((s) => 1 / (255 * s))));
  const shift = g.constant('preprocess.shift', 'float32', [1, 3, 1, 1], Float32Array.from(p.mean.map((m, i) => -m / p.std[i]!)));
  g.output(add(mul(chw, scale, L('scale')), shift, { label: 'preprocess.normalize', output: inp.name }));
  return prepend(ir, g.build());
}

/** The `--outputs` forms. */
export type OutputsMode = { readonly kind: 'logits' } | { readonly kind: 'probs' } | { readonly kind: 'topk'; readonly k: number };

export function parseOutputs(text: string): OutputsMode {
  if (text === 'logits' || text === 'probs') return { kind: text };
  const m = /^topk:(\d+)$/.exec(text);
  if (!m) throw new OptionError('outputs', `--outputs expects logits, probs or topk:K, got '${text}'`);
  const k = Number(m[1]);
  if (!(k >= 1)) throw new OptionError('outputs', `--outputs topk:${m[1]}: K must be at least 1`);
  return { kind: 'topk', k };
}

/** Softmax probabilities (`probs`) or the top K (`scores` float, `classes` int64) after the logits. */
export function outputsHead(ir: GraphIR, mode: OutputsMode, numClasses: number): GraphIR {
  if (mode.kind === 'logits') return ir;
  const out = ir.outputs[0]!;
  if (ir.outputs.length !== 1 || out.shape.length !== 2) throw new OptionError('outputs', `--outputs ${mode.kind}: needs the classifier's logits [N,classes] as the one output`);
  const g = new Graph(ir.name);
  const x = g.input(out.name, out.dtype, out.shape);
  const probs = softmax(x, { axis: -1, label: mode.kind === 'probs' ? 'probs' : 'softmax', ...(mode.kind === 'probs' ? { output: 'probs' } : {}) });
  if (mode.kind === 'probs') g.output(probs);
  else {
    if (mode.k > numClasses) throw new OptionError('outputs', `--outputs topk:${mode.k}: the model has ${numClasses} classes`);
    const [scores, classes] = topK(probs, mode.k, { label: 'top' });
    g.output(scores, 'scores');
    g.output(classes, 'classes');
  }
  const post = g.build();
  return append(ir, { ...post, inputs: [] });
}
