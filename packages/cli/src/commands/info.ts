import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { hubNamesFor } from '@effnet/efficientnet';
import { prepareModel } from '@effnet/pipeline';
import { estimateModelSize } from '@effnet/onnx-export';
import { formatCount, human, printJson, renderTable } from '../output.js';
import { UsageError } from '../errors.js';
import { addModelOptions, prepareOptions, type ModelFlags } from './common.js';

export function register(program: Command): void {
  addModelOptions(
    program
      .command('info')
      .description('parameters, multiply-adds and stage table of a model (counted from the graph)')
      .argument('<model>', "model id (see 'effnet list')")
      .option('--json', 'machine-readable output'),
    { batch: false },
  ).action((model: string, f: ModelFlags & { json?: boolean }) => {
    if (/\.onnx$/i.test(model) || existsSync(model))
      throw new UsageError(`info: '${model}' is a file; 'effnet info' describes model ids (see 'effnet list'): for an .onnx file run 'effnet inspect ${model}'`);
    const p = prepareModel(model, prepareOptions(f));
    const size = estimateModelSize(p.ir);
    const info = {
      model: p.label,
      params: p.stats.params,
      macs: p.stats.macs,
      flops: 2 * p.stats.macs,
      resolution: p.resolution,
      numClasses: p.numClasses,
      nodes: p.stats.nodes,
      ops: p.stats.ops,
      preprocess: p.preprocess,
      description: p.built.spec.description,
      /** `effnet export` output, estimated: weights inline, or in a .data file above protobuf's 2 GiB. */
      file: { bytes: size.bytes + size.dataBytes, externalData: size.external },
      family: p.built.spec.family,
      ...(p.built.spec.scaling ? { scaling: p.built.spec.scaling } : {}),
      ...(p.built.stages ? { stages: p.built.stages } : {}),
      /** timm feature_info of `--features` (none: the family has no taps, e.g. AmoebaNet). */
      features: (p.built.features ?? []).map((t, index) => ({ index, num_chs: t.channels, reduction: t.reduction, module: t.module })),
      /** Whether `--head none` (the pooled embedding) and `--dynamic-size` apply. */
      embedding: p.built.embedding !== undefined,
      dynamicSize: p.built.padding !== undefined,
      /** timm's trained weights on the Hugging Face Hub for this id (use with --weights once in the local cache). */
      hubWeights: hubNamesFor(p.built.spec.id),
    };
    if (f.json) return printJson(info);
    console.log(`${info.model}: ${info.description}`);
    console.log(`  params      ${formatCount(info.params)} (${human(info.params)})`);
    console.log(`  MACs        ${formatCount(info.macs)} (${human(info.macs)} multiply-adds per image; the paper's "FLOPS")`);
    console.log(`  resolution  ${info.resolution}x${info.resolution}, ${info.numClasses} classes, ${info.nodes} ONNX nodes`);
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    console.log(
      `  file        about ${mb(info.file.bytes)} exported (${size.external ? `${mb(size.bytes)} .onnx + ${mb(size.dataBytes)} .data: over protobuf's 2 GiB, weights go to external data` : 'one .onnx file, weights inline'})`,
    );
    console.log(`  family      ${info.family}${info.scaling ? `: ${info.scaling}` : ''}`);
    console.log(
      info.hubWeights.length
        ? `  weights     --weights ${info.hubWeights.join(', ')} (timm, from the local Hugging Face cache: \`hf download ${info.hubWeights[0]!.slice(3)}\` on a machine with network)`
        : '  weights     timm publishes no trained weights for this id; --weights takes a .safetensors or torch.save .pth of your own',
    );
    console.log(
      info.features.length
        ? `  backbone    --features: ${info.features.map((t) => `features.${t.index} ${t.num_chs}ch /${t.reduction} (${t.module})`).join(', ')}; --head none: embedding`
        : '  backbone    no feature taps (--features and --head none do not apply)',
    );
    console.log(`  input       ${info.dynamicSize ? '--dynamic-size (any H×W), ' : 'fixed size only (no --dynamic-size), '}--layout nhwc, --embed-preprocessing (uint8 pictures of any size)`);
    if (p.built.stages) {
      console.log(
        renderTable(
          ['stage', 'operator', 'resolution', 'channels', 'layers'],
          p.built.stages.map((s) => [s.stage, s.operator, `${s.resolution[0]}x${s.resolution[1]}`, s.channels, s.layers]),
        ),
      );
    }
  });
}
