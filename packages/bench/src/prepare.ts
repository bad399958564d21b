/**
 * Turns what a user names on the command line — a model id or an .onnx file — into something
 * every command can run: built graph + ONNX bytes, parameter and MAC counts, preprocessing.
 */
import { existsSync, statSync } from 'node:fs';
import { foldBatchNorm, graphStats, renameValues, toFloat16, type GraphIR, type GraphStats } from '@effnet/graph-builder';
import { buildModel, type BuildOptions, type BuiltModel, type Preprocess, type WeightSource } from '@effnet/efficientnet';
import { DEFAULT_OPSET, serializeModel, writeModel, type WriteOptions, type WriteResult } from '@effnet/onnx-export';

export interface PrepareOptions extends Omit<BuildOptions, 'weights'> {
  /** Fold BatchNorm into the preceding conv (exact up to float rounding). */
  readonly foldBn?: boolean;
  /** float16 weights and compute (inputs/outputs stay float32 unless fp16Io). */
  readonly fp16?: boolean;
  readonly fp16Io?: boolean;
  readonly opset?: number;
  readonly inputName?: string;
  readonly outputName?: string;
  readonly weights?: WeightSource;
  readonly extraMetadata?: Readonly<Record<string, string>>;
}

export interface PreparedModel {
  /** Model id or file path as given. */
  readonly ref: string;
  readonly label: string;
  readonly built: BuiltModel;
  /** Final graph after passes (fold-bn, fp16, renames). */
  readonly ir: GraphIR;
  /** Statistics of the unmodified architecture (params as PyTorch counts them, MACs per image). */
  readonly stats: GraphStats;
  readonly resolution: number;
  readonly numClasses: number;
  readonly preprocess: Preprocess;
  readonly metadata: Readonly<Record<string, string>>;
  readonly opset: number;
  readonly inputName: string;
  readonly outputName: string;
  serialize(): Uint8Array;
  write(path: string, o?: Omit<WriteOptions, keyof PrepareOptions>): WriteResult;
}

export function isOnnxPath(ref: string): boolean {
  return ref.toLowerCase().endsWith('.onnx') || (existsSync(ref) && statSync(ref).isFile());
}

export function prepareModel(ref: string, o: PrepareOptions = {}): PreparedModel {
  const built = buildModel(ref, o);
  const stats = graphStats(built.ir);
  let ir = built.ir;
  if (o.foldBn) ir = foldBatchNorm(ir);
  if (o.fp16) ir = toFloat16(ir, { keepIoFloat32: !o.fp16Io });
  const inputName = o.inputName ?? 'input';
  const outputName = o.outputName ?? 'logits';
  ir = renameValues(ir, { input: inputName, logits: outputName });
  const opset = o.opset ?? DEFAULT_OPSET;
  const metadata = {
    ...built.metadata,
    'effnet.params': String(stats.params),
    'effnet.macs': String(stats.macs),
    'effnet.fold_bn': String(!!o.foldBn),
    'effnet.precision': o.fp16 ? 'float16' : 'float32',
    ...(o.extraMetadata ?? {}),
  };
  const exportOptions = { opset, metadata, docString: built.spec.description };
  return {
    ref,
    label: built.spec.id,
    built,
    ir,
    stats,
    resolution: built.resolution,
    numClasses: built.numClasses,
    preprocess: built.spec.preprocess,
    metadata,
    opset,
    inputName,
    outputName,
    serialize: () => serializeModel(ir, exportOptions),
    write: (path, w = {}) => writeModel(ir, path, { ...w, ...exportOptions }),
  };
}
