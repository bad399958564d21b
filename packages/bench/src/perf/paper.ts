/**
 * THE PAPER'S FIGURES — the one place they live. Nothing here is measured by effnet.
 *
 * Source: Mingxing Tan and Quoc V. Le, "EfficientNet: Rethinking Model Scaling for Convolutional
 * Neural Networks", ICML 2019 (arXiv:1905.11946v5).
 * - Table 2: ImageNet top-1/top-5 accuracy, parameters and FLOPs. The paper's "FLOPs" count
 *   multiply-adds, i.e. what effnet reports as MACs.
 * - Table 4: inference latency, batch size 1 on a single core of an Intel Xeon CPU E5-2690
 *   (averaged over 20 runs). Table 4 quotes B1 at 78.8% and B7 at 84.4% top-1 (the v1 figures).
 */

export const PAPER_CITATION = 'Tan & Le, EfficientNet (ICML 2019, arXiv:1905.11946v5)';
export const PAPER_LATENCY_SETUP = 'batch 1, single core of an Intel Xeon CPU E5-2690';

/** Which series a model is drawn in (the charts draw each family as its own series). */
export type Series = 'EfficientNet' | 'EfficientNetV2' | 'EfficientNet-Lite' | 'other';

export interface PaperModel {
  /** Name as printed in the paper. */
  readonly name: string;
  readonly series: Series;
  /** effnet model ids that build this architecture (none if effnet cannot build it). */
  readonly ids: readonly string[];
  /** ImageNet top-1 / top-5, percent (Table 2; top-5 where published). */
  readonly top1: number;
  readonly top5?: number;
  /** Where the figures come from, for rows that are not Tan & Le (2019) Table 2. */
  readonly source?: string;
  /** Parameters (Table 2, as rounded there). */
  readonly params: number;
  /** Multiply-adds per image (the paper's "FLOPs", Table 2); undefined where the paper gives none. */
  readonly macs?: number;
  /** Seconds per image on CPU (Table 4), where given. */
  readonly cpuLatencyS?: number;
  /** Top-1 quoted beside the latency in Table 4, where it differs from Table 2. */
  readonly latencyTop1?: number;
}

const M = 1e6;
const B = 1e9;
const effIds = (n: number) => [`efficientnet-b${n}`, `tf-efficientnet-b${n}`];

/** Table 2 (and Table 4's latencies), in the paper's row order. */
export const PAPER_MODELS: readonly PaperModel[] = [
  { name: 'EfficientNet-B0', series: 'EfficientNet', ids: effIds(0), top1: 77.1, top5: 93.3, params: 5.3 * M, macs: 0.39 * B },
  { name: 'ResNet-50', series: 'other', ids: ['resnet50'], top1: 76.0, top5: 93.0, params: 26 * M, macs: 4.1 * B },
  { name: 'DenseNet-169', series: 'other', ids: [], top1: 76.2, top5: 93.2, params: 14 * M, macs: 3.5 * B },
  { name: 'EfficientNet-B1', series: 'EfficientNet', ids: effIds(1), top1: 79.1, top5: 94.4, params: 7.8 * M, macs: 0.7 * B, cpuLatencyS: 0.098, latencyTop1: 78.8 },
  { name: 'ResNet-152', series: 'other', ids: ['resnet152'], top1: 77.8, top5: 93.8, params: 60 * M, macs: 11 * B, cpuLatencyS: 0.554 },
  { name: 'DenseNet-264', series: 'other', ids: [], top1: 77.9, top5: 93.9, params: 34 * M, macs: 6.0 * B },
  { name: 'Inception-v3', series: 'other', ids: [], top1: 78.8, top5: 94.4, params: 24 * M, macs: 5.7 * B },
  { name: 'Xception', series: 'other', ids: [], top1: 79.0, top5: 94.5, params: 23 * M, macs: 8.4 * B },
  { name: 'EfficientNet-B2', series: 'EfficientNet', ids: effIds(2), top1: 80.1, top5: 94.9, params: 9.2 * M, macs: 1.0 * B },
  { name: 'Inception-v4', series: 'other', ids: [], top1: 80.0, top5: 95.0, params: 48 * M, macs: 13 * B },
  { name: 'Inception-ResNet-v2', series: 'other', ids: [], top1: 80.1, top5: 95.1, params: 56 * M, macs: 13 * B },
  { name: 'EfficientNet-B3', series: 'EfficientNet', ids: effIds(3), top1: 81.6, top5: 95.7, params: 12 * M, macs: 1.8 * B },
  { name: 'ResNeXt-101', series: 'other', ids: [], top1: 80.9, top5: 95.6, params: 84 * M, macs: 32 * B },
  { name: 'PolyNet', series: 'other', ids: [], top1: 81.3, top5: 95.8, params: 92 * M, macs: 35 * B },
  { name: 'EfficientNet-B4', series: 'EfficientNet', ids: effIds(4), top1: 82.9, top5: 96.4, params: 19 * M, macs: 4.2 * B },
  { name: 'SENet', series: 'other', ids: [], top1: 82.7, top5: 96.2, params: 146 * M, macs: 42 * B },
  { name: 'NASNet-A', series: 'other', ids: [], top1: 82.7, top5: 96.2, params: 89 * M, macs: 24 * B },
  { name: 'AmoebaNet-A', series: 'other', ids: [], top1: 82.8, top5: 96.1, params: 87 * M, macs: 23 * B },
  { name: 'PNASNet', series: 'other', ids: [], top1: 82.9, top5: 96.2, params: 86 * M, macs: 23 * B },
  { name: 'EfficientNet-B5', series: 'EfficientNet', ids: effIds(5), top1: 83.6, top5: 96.7, params: 30 * M, macs: 9.9 * B },
  { name: 'AmoebaNet-C', series: 'other', ids: [], top1: 83.5, top5: 96.5, params: 155 * M, macs: 41 * B },
  { name: 'EfficientNet-B6', series: 'EfficientNet', ids: effIds(6), top1: 84.0, top5: 96.8, params: 43 * M, macs: 19 * B },
  { name: 'EfficientNet-B7', series: 'EfficientNet', ids: effIds(7), top1: 84.3, top5: 97.0, params: 66 * M, macs: 37 * B, cpuLatencyS: 3.1, latencyTop1: 84.4 },
  // GPipe's model is AmoebaNet-B(18, 512) at 480x480; the paper gives no FLOPs for it.
  { name: 'GPipe (AmoebaNet-B)', series: 'other', ids: ['amoebanet-b'], top1: 84.3, top5: 97.0, params: 557 * M, cpuLatencyS: 19.0 },
];

export const V2_CITATION = 'Tan & Le, EfficientNetV2 (ICML 2021, arXiv:2104.00298)';
const V2_TABLE7 = `${V2_CITATION}, Table 7 (ImageNet1k)`;
const V2_TABLE7_21K = `${V2_CITATION}, Table 7 (pretrained on ImageNet21k)`;
const V2_RELEASE = 'google/automl efficientnetv2 README (released B0–B3 checkpoints)';
const LITE_RELEASE = 'tensorflow/tpu models/official/efficientnet/lite README (released checkpoints; MAdds as TF counts them)';
const v2Ids = (v: string) => [`tf-efficientnetv2-${v}`, ...(['s', 'm', 'l', 'xl'].includes(v) ? [`efficientnetv2-${v}`] : [])];
const liteIds = (n: number) => [`tf-efficientnet-lite${n}`, `efficientnet-lite${n}`];

/**
 * PUBLISHED FIGURES OF THE LATER FAMILIES — not measured by effnet, and not from the 2019 paper:
 * EfficientNetV2 S/M/L from the V2 paper's Table 7 (XL exists only pretrained on ImageNet21k there),
 * V2-B0–B3 and Lite0–4 from the official releases. FLOPs are multiply-adds as their sources count them.
 */
export const PUBLISHED_MODELS: readonly PaperModel[] = [
  { name: 'EfficientNetV2-B0', series: 'EfficientNetV2', ids: v2Ids('b0'), top1: 78.7, params: 7.1 * M, macs: 0.72 * B, source: V2_RELEASE },
  { name: 'EfficientNetV2-B1', series: 'EfficientNetV2', ids: v2Ids('b1'), top1: 79.8, params: 8.1 * M, macs: 1.2 * B, source: V2_RELEASE },
  { name: 'EfficientNetV2-B2', series: 'EfficientNetV2', ids: v2Ids('b2'), top1: 80.5, params: 10.1 * M, macs: 1.7 * B, source: V2_RELEASE },
  { name: 'EfficientNetV2-B3', series: 'EfficientNetV2', ids: v2Ids('b3'), top1: 82.1, params: 14.4 * M, macs: 3.0 * B, source: V2_RELEASE },
  { name: 'EfficientNetV2-S', series: 'EfficientNetV2', ids: v2Ids('s'), top1: 83.9, params: 22 * M, macs: 8.8 * B, source: V2_TABLE7 },
  { name: 'EfficientNetV2-M', series: 'EfficientNetV2', ids: v2Ids('m'), top1: 85.1, params: 54 * M, macs: 24 * B, source: V2_TABLE7 },
  { name: 'EfficientNetV2-L', series: 'EfficientNetV2', ids: v2Ids('l'), top1: 85.7, params: 120 * M, macs: 53 * B, source: V2_TABLE7 },
  { name: 'EfficientNetV2-XL (21k)', series: 'EfficientNetV2', ids: v2Ids('xl'), top1: 87.3, params: 208 * M, macs: 94 * B, source: V2_TABLE7_21K },
  { name: 'EfficientNet-Lite0', series: 'EfficientNet-Lite', ids: liteIds(0), top1: 75.1, params: 4.7 * M, macs: 0.407 * B, source: LITE_RELEASE },
  { name: 'EfficientNet-Lite1', series: 'EfficientNet-Lite', ids: liteIds(1), top1: 76.7, params: 5.4 * M, macs: 0.631 * B, source: LITE_RELEASE },
  { name: 'EfficientNet-Lite2', series: 'EfficientNet-Lite', ids: liteIds(2), top1: 77.6, params: 6.1 * M, macs: 0.899 * B, source: LITE_RELEASE },
  { name: 'EfficientNet-Lite3', series: 'EfficientNet-Lite', ids: liteIds(3), top1: 79.8, params: 8.2 * M, macs: 1.44 * B, source: LITE_RELEASE },
  { name: 'EfficientNet-Lite4', series: 'EfficientNet-Lite', ids: liteIds(4), top1: 81.5, params: 13.0 * M, macs: 2.64 * B, source: LITE_RELEASE },
];

/** Every published row: Tan & Le (2019) Table 2, then the later families. */
export const ALL_PUBLISHED: readonly PaperModel[] = [...PAPER_MODELS, ...PUBLISHED_MODELS];

/** The published row for an effnet model id, if there is one. */
export function paperModel(id: string): PaperModel | undefined {
  return ALL_PUBLISHED.find((m) => m.ids.includes(id));
}

/** The series an effnet model id is drawn in. */
export function seriesOf(id: string): Series {
  const p = paperModel(id);
  if (p) return p.series;
  if (/efficientnetv2/.test(id)) return 'EfficientNetV2';
  if (/efficientnet-lite/.test(id)) return 'EfficientNet-Lite';
  return /efficientnet/.test(id) ? 'EfficientNet' : 'other';
}

export interface PaperComparison {
  /** Short key, e.g. 'b7-vs-gpipe'. */
  readonly key: string;
  /** The EfficientNet of the pair and the model it is compared with (effnet ids). */
  readonly efficientnet: string;
  readonly baseline: string;
  /** The paper's figures, baseline ÷ EfficientNet ("8.4x fewer parameters", "6.1x faster"). */
  readonly paper: {
    readonly paramsRatio: number;
    readonly macsRatio?: number;
    readonly latencyRatio?: number;
    /** Top-1 gain of the EfficientNet, percentage points (Table 2); negative when it is less accurate. */
    readonly top1Gain: number;
    /** Where the ratios come from. */
    readonly source: string;
  };
}

/**
 * The paper's headline comparisons. Ratios as printed in the paper where it prints them (Table 2's
 * "Ratio-to-EfficientNet" columns, Table 4's speedups); B4 vs ResNet-50 has no printed ratios, so
 * they are computed from Table 2's rounded counts (26M/19M, 4.1B/4.2B) and the paper has no latency.
 */
export const PAPER_COMPARISONS: readonly PaperComparison[] = [
  {
    key: 'b7-vs-gpipe',
    efficientnet: 'efficientnet-b7',
    baseline: 'amoebanet-b',
    paper: { paramsRatio: 8.4, latencyRatio: 6.1, top1Gain: 0, source: 'Table 2 (8.4x fewer params), Table 4 (3.1 s vs 19.0 s: 6.1x faster)' },
  },
  {
    key: 'b1-vs-resnet152',
    efficientnet: 'efficientnet-b1',
    baseline: 'resnet152',
    paper: { paramsRatio: 7.6, macsRatio: 16, latencyRatio: 5.7, top1Gain: 1.3, source: 'Table 2 (7.6x params, 16x FLOPs), Table 4 (0.098 s vs 0.554 s: 5.7x faster)' },
  },
  {
    key: 'b4-vs-resnet50',
    efficientnet: 'efficientnet-b4',
    baseline: 'resnet50',
    paper: { paramsRatio: 1.4, macsRatio: 0.98, top1Gain: 6.9, source: 'computed from Table 2 (26M vs 19M params, 4.1B vs 4.2B FLOPs, 76.0% vs 82.9%); no latency in the paper' },
  },
];

/**
 * The family question, answered on this machine: how the later families compare with the V1 model of
 * similar accuracy or size. Published ratios are computed from the published rows above (baseline ÷
 * newer model, as PAPER_COMPARISONS); the sources publish no CPU latency for these.
 */
export const FAMILY_COMPARISONS: readonly PaperComparison[] = [
  {
    key: 'v2s-vs-b4',
    efficientnet: 'tf-efficientnetv2-s',
    baseline: 'efficientnet-b4',
    paper: { paramsRatio: 0.86, macsRatio: 0.48, top1Gain: 1.0, source: `computed from Table 2 of Tan & Le 2019 (B4: 19M, 4.2B, 82.9%) and ${V2_TABLE7} (V2-S: 22M, 8.8B, 83.9%)` },
  },
  {
    key: 'v2b0-vs-b0',
    efficientnet: 'tf-efficientnetv2-b0',
    baseline: 'efficientnet-b0',
    paper: { paramsRatio: 0.75, macsRatio: 0.54, top1Gain: 1.6, source: `computed from Table 2 of Tan & Le 2019 (B0: 5.3M, 0.39B, 77.1%) and the ${V2_RELEASE} (V2-B0: 7.1M, 0.72B, 78.7%)` },
  },
  {
    key: 'lite0-vs-b0',
    efficientnet: 'efficientnet-lite0',
    baseline: 'efficientnet-b0',
    paper: { paramsRatio: 1.13, macsRatio: 0.96, top1Gain: -2.0, source: `computed from Table 2 of Tan & Le 2019 (B0: 5.3M, 0.39B, 77.1%) and the ${LITE_RELEASE} (Lite0: 4.7M, 407M, 75.1%)` },
  },
];
