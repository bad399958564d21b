/**
 * Class names: the ImageNet-1k list shipped as data (`data/imagenet-classes.json`, index order of
 * timm/torchvision/Keras), user label files, and WordNet id → readable name.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Dataset } from './dataset.js';

export interface ImagenetClass {
  readonly index: number;
  readonly wnid: string;
  readonly name: string;
}

let imagenet: readonly ImagenetClass[] | undefined;

/** The 1,000 ImageNet-1k classes in model output order. */
export function imagenetClasses(): readonly ImagenetClass[] {
  if (!imagenet) {
    // Same relative location from src/eval/ and dist/eval/.
    const path = fileURLToPath(new URL('../../data/imagenet-classes.json', import.meta.url));
    const list = JSON.parse(readFileSync(path, 'utf8')) as ImagenetClass[];
    if (list.length !== 1000 || list.some((c, i) => c.index !== i)) throw new Error(`${path}: expected the 1000 ImageNet classes in index order`);
    imagenet = list;
  }
  return imagenet;
}

const WNID = /^n\d{8}$/;
let byWnid: Map<string, ImagenetClass> | undefined;

/** The ImageNet class a WordNet id names, if any. */
export function imagenetClass(wnid: string): ImagenetClass | undefined {
  if (!WNID.test(wnid)) return undefined;
  byWnid ??= new Map(imagenetClasses().map((c) => [c.wnid, c]));
  return byWnid.get(wnid);
}

/** A label for people: WordNet ids become "tench (n01440764)", anything else is kept. */
export function displayLabel(label: string): string {
  const c = imagenetClass(label);
  return c ? `${c.name} (${c.wnid})` : label;
}

/** True when every name is an ImageNet WordNet id. */
export function allImagenetWnids(names: readonly string[]): boolean {
  return names.length > 0 && names.every((n) => imagenetClass(n) !== undefined);
}

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
  const text = readFileSync(spec, 'utf8');
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
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
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
