import type { Command } from 'commander';
import { classifyImages } from '@effnet/bench';
import { createRunner } from '@effnet/runtime';
import { readLabels } from '@effnet/images';
import { displayLabel, imagenetClasses, metadataLabels, metadataOutputs, noClassesMessage, UNTRAINED_WEIGHTS, untrainedWeights } from '@effnet/preprocess';
import { UsageError } from '../errors.js';
import { printJson } from '../output.js';
import { safeText } from '../text.js';
import { intInRange, LIMITS } from '../parse.js';
import { addModelOptions } from './common.js';
import { addPreprocessOptions, openForImages, type PreprocessFlags } from './image-flags.js';
import { latencyOnlyNote } from './compare.js';
import type { ModelFlags } from './common.js';

interface ClassifyFlags extends ModelFlags, PreprocessFlags {
  labels?: string;
  top?: number;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('classify')
    .description('top-K classes with probabilities for image files')
    .argument('<model>', "model id (see 'effnet list') or an .onnx file")
    .argument('<image...>', 'image files (JPEG, PNG, WebP, ...)')
    .option(
      '--labels <spec>',
      "class names: 'imagenet', a JSON list, a text file (one per line) or an ImageFolder directory; WordNet ids print as ImageNet names (default: the class list the model's weights carry, else imagenet for 1000-class models)",
    )
    .option('--top <K>', `classes per image, 1..${LIMITS.top} (default 5)`, intInRange('--top', 1, LIMITS.top))
    .option('--json', 'machine-readable output');
  addModelOptions(cmd, { batch: false });
  addPreprocessOptions(cmd).action(async (ref: string, images: string[], f: ClassifyFlags) => {
    const { model, preprocess, fixedBatch } = openForImages(ref, f);
    // What the file outputs (effnet.outputs): logits, probabilities, top-K, or no classes at all.
    const outputs = metadataOutputs(model.metadata, model.label);
    if (outputs.kind === 'none') throw new UsageError(noClassesMessage(model.label, outputs));
    const note = latencyOnlyNote(model.metadata);
    if (note) process.stderr.write(`warning: ${note}\n`);
    let labels: string[] | undefined;
    if (f.labels) labels = readLabels(f.labels);
    else if (model.metadata['effnet.labels']) labels = metadataLabels(model.metadata, model.label, model.numClasses);
    else if (model.numClasses === 1000) labels = imagenetClasses().map((c) => c.wnid);
    if (labels && labels.length !== model.numClasses) throw new UsageError(`--labels ${f.labels ?? 'imagenet'}: ${labels.length} labels but ${model.label} has ${model.numClasses} classes`);
    const name = (i: number) => (labels ? displayLabel(labels[i]!) : `class ${i}`);
    // Class names and file names come from files and folders: escaped before they reach the terminal.
    const runner = await createRunner(model.source(), { ep: f.ep, inputKind: model.inputKind, ...(f.threads ? { threads: f.threads } : {}) });
    try {
      const results = await classifyImages(runner, images, model.numClasses, {
        ...preprocess,
        top: f.top ?? 5,
        model: model.label,
        outputs,
        ...(fixedBatch !== undefined ? { batch: fixedBatch, fixedBatch: true } : {}),
      });
      const untrained = untrainedWeights(model.metadata);
      const weights = untrained ? UNTRAINED_WEIGHTS : (f.weights ?? model.metadata['effnet.weights'] ?? null);
      if (f.json)
        return printJson(
          results.map((r) => ({
            file: r.file,
            weights,
            top: r.top.map((t) => ({ index: t.index, ...(labels ? { label: labels[t.index], name: name(t.index) } : {}), probability: t.probability })),
          })),
        );
      if (untrained) process.stdout.write(`${untrainedNotice(model.label)}\n`);
      for (const r of results) {
        process.stdout.write(`${safeText(r.file)}\n`);
        for (const t of r.top) process.stdout.write(`  ${(100 * t.probability).toFixed(2).padStart(6)}%  ${safeText(name(t.index))}  [${t.index}]\n`);
      }
    } finally {
      await runner.release();
    }
  });
}

/** One line said wherever the predictions of untrained default weights are shown. */
export function untrainedNotice(model: string): string {
  return `note: ${safeText(model)} has untrained deterministic default weights (no --weights): these classes are not predictions`;
}
