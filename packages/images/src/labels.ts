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
    return list.map((x, i) => {
      if (typeof x === 'string') return x;
      const o = x as { name?: unknown; wnid?: unknown };
      if (o && typeof o.name === 'string') return o.name;
      if (o && typeof o.wnid === 'string') return o.wnid;
      throw new Error(`--labels ${spec}: entry ${i} is neither a string nor an object with a name`);
    });
  }
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  if (!lines.length) throw new Error(`--labels ${spec}: file has no labels`);
  return lines;
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
