/**
 * Class names from disk: user label files and ImageFolder directories (the pure ImageNet list and
 * WordNet-id names are `@effnet/preprocess`).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readRegularFile } from '@effnet/safe-fs';
import { allImagenetWnids, imagenetClass, imagenetClasses } from '@effnet/preprocess';
import { MAX_LABELS_BYTES, type Dataset } from './dataset.js';

/**
 * Class names by output index from `spec`:
 * - `imagenet`: the ImageNet-1k names;
 * - a directory: its sorted subfolder names (an ImageFolder data set's classes);
 * - a `.json` file: a list of strings, a list of objects with `name` (or `wnid`), or an object
 *   with such a list under `classes`;
 * - any other file: one label per line (blank lines skipped).
 */
/** Longest class name accepted from a labels file (a name, not a document). */
export const MAX_LABEL_CHARS = 200;

function checkLabelLengths(labels: string[], spec: string): string[] {
  const i = labels.findIndex((l) => l.length > MAX_LABEL_CHARS);
  if (i >= 0)
    throw new Error(`--labels ${spec}: label ${i + 1} is ${labels[i]!.length.toLocaleString('en-US')} characters long ('${labels[i]!.slice(0, 30)}…'); class names are at most ${MAX_LABEL_CHARS}`);
  return labels;
}

export function readLabels(spec: string): string[] {
  if (spec === 'imagenet') return imagenetClasses().map((c) => c.name);
  if (!existsSync(spec)) throw new Error(`--labels ${spec}: no such file (expected 'imagenet', a JSON list, a text file with one label per line, or an ImageFolder directory)`);
  if (statSync(spec).isDirectory()) {
    const names = readdirSync(spec, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (!names.length) throw new Error(`--labels ${spec}: directory has no class folders`);
    return names;
  }
  // A regular file of at most MAX_LABELS_BYTES (a FIFO would block, /dev/zero never ends).
  const text = new TextDecoder().decode(readRegularFile(spec, 'labels file', MAX_LABELS_BYTES));
  if (spec.toLowerCase().endsWith('.json')) {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new Error(`--labels ${spec}: invalid JSON (${(e as Error).message})`);
    }
    const list = Array.isArray(v) ? v : (v as { classes?: unknown })?.classes;
    if (!Array.isArray(list) || !list.length) throw new Error(`--labels ${spec}: expected a JSON list of labels (or {"classes": [...]})`);
    return checkLabelLengths(
      list.map((x, i) => {
        if (typeof x === 'string') return x;
        const o = x as { name?: unknown; wnid?: unknown };
        if (o && typeof o.name === 'string') return o.name;
        if (o && typeof o.wnid === 'string') return o.wnid;
        throw new Error(`--labels ${spec}: entry ${i} is neither a string nor an object with a name`);
      }),
      spec,
    );
  }
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  if (!lines.length) throw new Error(`--labels ${spec}: file has no labels`);
  return checkLabelLengths(lines, spec);
}

/**
 * An ImageFolder listing whose class folders are ImageNet WordNet ids (e.g. Imagenette, a subset
 * of ImageNet) relabelled with ImageNet-1k indices, for evaluating a 1000-class model on it.
 */
export function toImagenetLabels(ds: Dataset): Dataset {
  if (!allImagenetWnids(ds.classes)) throw new Error(`${ds.root}: class names are not all ImageNet WordNet ids`);
  const index = ds.classes.map((w) => imagenetClass(w)!.index);
  return { root: ds.root, classes: imagenetClasses().map((c) => c.wnid), samples: ds.samples.map((s) => ({ ...s, label: index[s.label]! })) };
}

/** A data set's class names cannot be matched to the model's outputs (a usage problem: say how). */
export class ClassMappingError extends Error {
  override name = 'ClassMappingError';
}

export interface ModelClasses {
  readonly numClasses: number;
  /** The model's class names (effnet.labels), when it carries them. */
  readonly labels?: readonly string[];
  /** Names the model in messages. */
  readonly model: string;
}

/**
 * Maps a labelled listing's classes onto the model's output indices, never by accident:
 * - the model carries class names (effnet.labels): each class of the listing by name;
 * - a 1000-class model and WordNet-id class names: ImageNet-1k indices;
 * - as many classes as the model has outputs: sorted order (torchvision's ImageFolder rule);
 * - `folderOrder`: sorted order, even for a subset of the classes (the caller vouches for it);
 * - anything else is refused, saying how to fix it: a folder holding only some of the model's
 *   classes, read in folder order, would put every image under the wrong index.
 * Listings whose labels are class indices (a labels file with numbers) are left as they are.
 */
export function alignClasses(ds: Dataset, m: ModelClasses, o: { readonly folderOrder?: boolean; readonly numericLabels?: boolean } = {}): Dataset {
  if (o.numericLabels) return ds;
  if (m.labels && m.labels.length === m.numClasses) {
    const index = new Map(m.labels.map((name, i) => [name, i]));
    const unknown = ds.classes.filter((c, i) => !index.has(c) && ds.samples.some((s) => s.label === i));
    if (unknown.length === 0) {
      const to = ds.classes.map((c) => index.get(c) ?? -1);
      return { root: ds.root, classes: m.labels, samples: ds.samples.map((s) => ({ ...s, label: to[s.label]! })) };
    }
    if (!o.folderOrder)
      throw new ClassMappingError(
        `${ds.root}: class ${unknown.length === 1 ? 'folder' : 'folders'} ${unknown
          .slice(0, 5)
          .map((c) => `'${c}'`)
          .join(
            ', ',
          )}${unknown.length > 5 ? ', …' : ''} not among ${m.model}'s ${m.numClasses} class names (${m.labels.slice(0, 5).join(', ')}${m.numClasses > 5 ? ', …' : ''}); rename the folders, give --labels FILE, or --folder-order to take sorted folder order as class indices 0..${ds.classes.length - 1}`,
      );
  }
  if (m.numClasses === 1000 && ds.classes.length < 1000 && allImagenetWnids(ds.classes)) return toImagenetLabels(ds);
  if (ds.classes.length === m.numClasses || o.folderOrder) return ds;
  throw new ClassMappingError(
    `${ds.root}: ${ds.classes.length} classes (${ds.classes.slice(0, 3).join(', ')}${ds.classes.length > 3 ? ', …' : ''}) but ${m.model} has ${m.numClasses} outputs and no class names to match them by: sorted folder order would mislabel a subset of the classes. Give --labels FILE (class indices), or --folder-order if folder i really is class i`,
  );
}
