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

export interface PaperModel {
  /** Name as printed in the paper. */
  readonly name: string;
  /** effnet model ids that build this architecture (none if effnet cannot build it). */
  readonly ids: readonly string[];
  /** ImageNet top-1 / top-5, percent (Table 2). */
  readonly top1: number;
  readonly top5: number;
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
  { name: 'EfficientNet-B0', ids: effIds(0), top1: 77.1, top5: 93.3, params: 5.3 * M, macs: 0.39 * B },
  { name: 'ResNet-50', ids: ['resnet50'], top1: 76.0, top5: 93.0, params: 26 * M, macs: 4.1 * B },
  { name: 'DenseNet-169', ids: [], top1: 76.2, top5: 93.2, params: 14 * M, macs: 3.5 * B },
  { name: 'EfficientNet-B1', ids: effIds(1), top1: 79.1, top5: 94.4, params: 7.8 * M, macs: 0.7 * B, cpuLatencyS: 0.098, latencyTop1: 78.8 },
  { name: 'ResNet-152', ids: ['resnet152'], top1: 77.8, top5: 93.8, params: 60 * M, macs: 11 * B, cpuLatencyS: 0.554 },
  { name: 'DenseNet-264', ids: [], top1: 77.9, top5: 93.9, params: 34 * M, macs: 6.0 * B },
  { name: 'Inception-v3', ids: [], top1: 78.8, top5: 94.4, params: 24 * M, macs: 5.7 * B },
  { name: 'Xception', ids: [], top1: 79.0, top5: 94.5, params: 23 * M, macs: 8.4 * B },
  { name: 'EfficientNet-B2', ids: effIds(2), top1: 80.1, top5: 94.9, params: 9.2 * M, macs: 1.0 * B },
  { name: 'Inception-v4', ids: [], top1: 80.0, top5: 95.0, params: 48 * M, macs: 13 * B },
  { name: 'Inception-ResNet-v2', ids: [], top1: 80.1, top5: 95.1, params: 56 * M, macs: 13 * B },
  { name: 'EfficientNet-B3', ids: effIds(3), top1: 81.6, top5: 95.7, params: 12 * M, macs: 1.8 * B },
  { name: 'ResNeXt-101', ids: [], top1: 80.9, top5: 95.6, params: 84 * M, macs: 32 * B },
  { name: 'PolyNet', ids: [], top1: 81.3, top5: 95.8, params: 92 * M, macs: 35 * B },
  { name: 'EfficientNet-B4', ids: effIds(4), top1: 82.9, top5: 96.4, params: 19 * M, macs: 4.2 * B },
  { name: 'SENet', ids: [], top1: 82.7, top5: 96.2, params: 146 * M, macs: 42 * B },
  { name: 'NASNet-A', ids: [], top1: 82.7, top5: 96.2, params: 89 * M, macs: 24 * B },
  { name: 'AmoebaNet-A', ids: [], top1: 82.8, top5: 96.1, params: 87 * M, macs: 23 * B },
  { name: 'PNASNet', ids: [], top1: 82.9, top5: 96.2, params: 86 * M, macs: 23 * B },
  { name: 'EfficientNet-B5', ids: effIds(5), top1: 83.6, top5: 96.7, params: 30 * M, macs: 9.9 * B },
  { name: 'AmoebaNet-C', ids: [], top1: 83.5, top5: 96.5, params: 155 * M, macs: 41 * B },
  { name: 'EfficientNet-B6', ids: effIds(6), top1: 84.0, top5: 96.8, params: 43 * M, macs: 19 * B },
  { name: 'EfficientNet-B7', ids: effIds(7), top1: 84.3, top5: 97.0, params: 66 * M, macs: 37 * B, cpuLatencyS: 3.1, latencyTop1: 84.4 },
  // GPipe's model is AmoebaNet-B(18, 512) at 480x480; the paper gives no FLOPs for it.
  { name: 'GPipe (AmoebaNet-B)', ids: ['amoebanet-b'], top1: 84.3, top5: 97.0, params: 557 * M, cpuLatencyS: 19.0 },
];

/** The paper's row for an effnet model id, if the paper reports that architecture. */
export function paperModel(id: string): PaperModel | undefined {
  return PAPER_MODELS.find((m) => m.ids.includes(id));
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
    /** Top-1 gain of the EfficientNet, percentage points (Table 2). */
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
