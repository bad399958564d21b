/**
 * Labelled image sets: ImageFolder layout (`DIR/<class>/<image>`, class index = position of the
 * folder name in sorted order, as torchvision's ImageFolder) or a flat/any folder plus a labels
 * file (`<file> <label>` per line; ImageNet's validation lists).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readRegularFile } from '@effnet/safe-fs';
import { extname, join, relative, sep } from 'node:path';

/** Extensions listed as images (case-insensitive), as torchvision's IMG_EXTENSIONS plus AVIF/HEIF-free. */
/** Largest labels file read: 64 MiB (ImageNet-21k's names are under 1 MiB). */
export const MAX_LABELS_BYTES = 64 * 2 ** 20;

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp', '.gif'] as const;

export interface Sample {
  /** Absolute (or as-given) path of the image file. */
  readonly path: string;
  /** Path relative to the data folder, with '/' separators: the key in predictions files. */
  readonly key: string;
  /** Class index. */
  readonly label: number;
}

export interface Dataset {
  readonly root: string;
  /** Class names by index. */
  readonly classes: readonly string[];
  readonly samples: readonly Sample[];
}

export interface ListOptions {
  /** Labels file instead of the ImageFolder layout. */
  readonly labels?: string;
  /**
   * Class names by index, for labels files whose labels are names (e.g. WordNet ids). Default: the
   * sorted distinct names in the file.
   */
  readonly classes?: readonly string[];
}

const isHidden = (name: string) => name.startsWith('.');
const isImage = (name: string) => (IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => byCodePoint(a.name, b.name))) {
      if (isHidden(e.name)) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!isImage(e.name)) continue;
      else if (e.isFile()) out.push(p);
      else if (e.isSymbolicLink()) {
        // A dangling symlink, a symlink loop or a link to a device is listed like any unreadable
        // image: eval counts, lists and skips it (or stops on it with --strict) instead of failing
        // the whole listing. Only a link to a directory is no image.
        const st = statOrUndefined(p);
        if (st === undefined || !st.isDirectory()) out.push(p);
      } else out.push(p); // a FIFO, socket or device named like an image: listed, then reported unreadable (never silently left out)
    }
  };
  walk(dir);
  return out;
}

function statOrUndefined(p: string): import('node:fs').Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

const keyOf = (root: string, path: string) => relative(root, path).split(sep).join('/');

function checkDir(root: string): void {
  if (!existsSync(root)) throw new Error(`${root}: no such directory`);
  if (!statSync(root).isDirectory()) throw new Error(`${root}: not a directory`);
}

/**
 * torchvision ImageFolder: every non-hidden subfolder is a class (sorted by code point), images
 * are found recursively below it. Empty class folders keep their index (they still shift the
 * numbering) and simply contribute no samples.
 */
export function listImageFolder(root: string): Dataset {
  checkDir(root);
  const classes = readdirSync(root, { withFileTypes: true })
    .filter((e) => !isHidden(e.name) && (e.isDirectory() || (e.isSymbolicLink() && statOrUndefined(join(root, e.name))?.isDirectory() === true)))
    .map((e) => e.name)
    .sort(byCodePoint);
  if (!classes.length) throw new Error(`${root}: no class folders (expected ImageFolder layout DIR/<class>/<image>, or give a labels file)`);
  const samples: Sample[] = [];
  classes.forEach((c, label) => {
    for (const path of filesUnder(join(root, c))) samples.push({ path, key: keyOf(root, path), label });
  });
  if (!samples.length) throw new Error(`${root}: no images in ${classes.length} class folders (extensions: ${IMAGE_EXTENSIONS.join(' ')})`);
  return { root, classes, samples };
}

/**
 * A labels file: one `<file> <label>` per line, separated by whitespace or a comma; `#` comments
 * and blank lines are skipped, and so is a first line that names no image (a CSV header).
 * `<file>` is relative to `root`; it may lack its extension (ImageNet's LOC_val_solution.csv):
 * then the image in `root` with that stem is used. `<label>` is a class index, or a class name
 * (first word of the field; resolved through `classes`).
 */
export function listLabelsFile(root: string, labelsPath: string, o: Pick<ListOptions, 'classes'> = {}): Dataset {
  checkDir(root);
  // A regular file of at most MAX_LABELS_BYTES (a FIFO would block, /dev/zero never ends).
  const text = new TextDecoder().decode(readRegularFile(labelsPath, 'labels file', MAX_LABELS_BYTES));
  const rows: { file: string; label: string; line: number }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^([^\s,]+)[\s,]+([^\s,]+)/.exec(line);
    if (!m) throw new Error(`${labelsPath}:${i + 1}: expected '<file> <label>', got '${line.slice(0, 80)}'`);
    rows.push({ file: m[1]!, label: m[2]!, line: i + 1 });
  });
  const numeric = (s: string) => /^\d+$/.test(s);
  let stems: Map<string, string> | undefined;
  const find = (file: string): string | undefined => {
    const p = join(root, file);
    if (existsSync(p) && statSync(p).isFile()) return p;
    if (extname(file)) return undefined;
    stems ??= new Map(filesUnder(root).map((f) => [keyOf(root, f).replace(/\.[^./]+$/, ''), f]));
    return stems.get(file);
  };
  // A header line (CSV): the first row names no image.
  if (rows.length > 1 && find(rows[0]!.file) === undefined) rows.shift();
  if (!rows.length) throw new Error(`${labelsPath}: no '<file> <label>' lines`);

  let classes: readonly string[];
  let index: (label: string, line: number) => number;
  if (rows.every((r) => numeric(r.label))) {
    const max = rows.reduce((m, r) => Math.max(m, Number(r.label)), 0);
    classes = o.classes ?? Array.from({ length: max + 1 }, (_, i) => String(i));
    index = (l, line) => {
      const n = Number(l);
      if (n >= classes.length) throw new Error(`${labelsPath}:${line}: class index ${n} out of range (${classes.length} classes)`);
      return n;
    };
  } else {
    classes = o.classes ?? [...new Set(rows.map((r) => r.label))].sort(byCodePoint);
    const map = new Map(classes.map((c, i) => [c, i]));
    index = (l, line) => {
      const n = map.get(l);
      if (n === undefined) throw new Error(`${labelsPath}:${line}: unknown class '${l}'${o.classes ? ` (not among the ${classes.length} class names)` : ''}`);
      return n;
    };
  }

  const resolve = (file: string, line: number): string => {
    const p = find(file);
    if (p === undefined) throw new Error(`${labelsPath}:${line}: ${join(root, file)}: no such image`);
    return p;
  };
  const samples = rows.map((r) => {
    const path = resolve(r.file, r.line);
    return { path, key: keyOf(root, path), label: index(r.label, r.line) };
  });
  return { root, classes, samples };
}

export function listDataset(root: string, o: ListOptions = {}): Dataset {
  return o.labels ? listLabelsFile(root, o.labels, o) : listImageFolder(root);
}

/**
 * `limit` samples spread evenly over the listing (every (n/limit)-th), so that a quick run still
 * sees every class of an ImageFolder listing rather than the first class only.
 */
export function spreadSubset<T>(items: readonly T[], limit: number): T[] {
  if (limit >= items.length) return [...items];
  return Array.from({ length: limit }, (_, i) => items[Math.floor((i * items.length) / limit)]!);
}
