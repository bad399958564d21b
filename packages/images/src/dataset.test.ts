import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listDataset, listImageFolder, listLabelsFile, spreadSubset } from './dataset.js';

const root = mkdtempSync(join(tmpdir(), 'effnet-dataset-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Creates empty files (listing never opens them) and directories under a fresh folder. */
function tree(name: string, files: readonly string[], dirs: readonly string[] = []): string {
  const dir = join(root, name);
  for (const d of dirs) mkdirSync(join(dir, d), { recursive: true });
  for (const f of files) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), '');
  }
  return dir;
}

describe('listImageFolder', () => {
  it('gives class indices in sorted folder order and finds images recursively, sorted', () => {
    const dir = tree('folder', ['b/2.jpg', 'b/1.JPEG', 'a/x.png', 'a/sub/y.webp', 'C/z.jpg', 'a/notes.txt']);
    const ds = listImageFolder(dir);
    expect(ds.classes).toEqual(['C', 'a', 'b']); // code-point order, as Python's sorted()
    expect(ds.samples.map((s) => [s.key, s.label])).toEqual([
      ['C/z.jpg', 0],
      ['a/sub/y.webp', 1],
      ['a/x.png', 1],
      ['b/1.JPEG', 2],
      ['b/2.jpg', 2],
    ]);
    expect(ds.samples[0]!.path).toBe(join(dir, 'C/z.jpg'));
  });

  it('skips hidden files and folders, keeps empty class folders in the numbering', () => {
    const dir = tree('hidden', ['.DS_Store', 'a/.hidden.jpg', 'a/ok.jpg', '.ipynb_checkpoints/a.jpg', 'c/ok.png', 'a/.cache/x.jpg'], ['b']);
    const ds = listImageFolder(dir);
    expect(ds.classes).toEqual(['a', 'b', 'c']);
    expect(ds.samples.map((s) => [s.key, s.label])).toEqual([
      ['a/ok.jpg', 0],
      ['c/ok.png', 2],
    ]);
  });

  it('follows symlinked class folders', () => {
    const dir = tree('links', ['real/a.jpg']);
    mkdirSync(join(dir, 'data'));
    symlinkSync(join(dir, 'real'), join(dir, 'data', 'cls'));
    expect(listImageFolder(join(dir, 'data')).samples.map((s) => s.key)).toEqual(['cls/a.jpg']);
  });

  it('fails with the folder named when it is missing, flat, or holds no images', () => {
    expect(() => listImageFolder(join(root, 'nope'))).toThrow(/nope: no such directory/);
    const flat = tree('flat', ['a.jpg']);
    expect(() => listImageFolder(flat)).toThrow(/flat: no class folders \(expected ImageFolder layout/);
    const empty = tree('empty', ['a/readme.txt'], ['b']);
    expect(() => listImageFolder(empty)).toThrow(/empty: no images in 2 class folders/);
  });
});

describe('listLabelsFile', () => {
  const dir = tree('flatval', ['ILSVRC2012_val_00000001.JPEG', 'ILSVRC2012_val_00000002.JPEG', 'ILSVRC2012_val_00000003.JPEG', 'sub/x.png']);

  it('reads "<file> <index>" lines (caffe val.txt), skipping blanks and comments', () => {
    const labels = join(root, 'val.txt');
    writeFileSync(labels, '# ImageNet val\nILSVRC2012_val_00000001.JPEG 65\n\nILSVRC2012_val_00000002.JPEG 970\nsub/x.png 0\n');
    const ds = listLabelsFile(dir, labels);
    expect(ds.samples.map((s) => [s.key, s.label])).toEqual([
      ['ILSVRC2012_val_00000001.JPEG', 65],
      ['ILSVRC2012_val_00000002.JPEG', 970],
      ['sub/x.png', 0],
    ]);
    expect(ds.classes).toHaveLength(971);
    expect(listLabelsFile(dir, labels, { classes: Array.from({ length: 1000 }, (_, i) => `c${i}`) }).classes).toHaveLength(1000);
  });

  it('reads CSV with a header, names as labels and files without extension (LOC_val_solution.csv)', () => {
    const labels = join(root, 'LOC_val_solution.csv');
    writeFileSync(labels, 'ImageId,PredictionString\nILSVRC2012_val_00000003,n01751748 1 2 3 4 n01751748 5 6 7 8\nILSVRC2012_val_00000001,n01440764 1 2 3 4\n');
    const ds = listLabelsFile(dir, labels);
    expect(ds.classes).toEqual(['n01440764', 'n01751748']);
    expect(ds.samples.map((s) => [s.key, s.label])).toEqual([
      ['ILSVRC2012_val_00000003.JPEG', 1],
      ['ILSVRC2012_val_00000001.JPEG', 0],
    ]);
    // With the full class list, names map to its indices.
    const ds2 = listDataset(dir, { labels, classes: ['x', 'n01440764', 'y', 'n01751748'] });
    expect(ds2.samples.map((s) => s.label)).toEqual([3, 1]);
  });

  it('names the file and line of a bad entry', () => {
    const bad = join(root, 'bad.txt');
    writeFileSync(bad, 'ILSVRC2012_val_00000001.JPEG 1\nmissing.JPEG 2\n');
    expect(() => listLabelsFile(dir, bad)).toThrow(/bad.txt:2: .*missing.JPEG: no such image/);
    writeFileSync(bad, 'ILSVRC2012_val_00000001.JPEG 1\nILSVRC2012_val_00000002.JPEG\n');
    expect(() => listLabelsFile(dir, bad)).toThrow(/bad.txt:2: expected '<file> <label>'/);
    writeFileSync(bad, 'ILSVRC2012_val_00000001.JPEG 1\nILSVRC2012_val_00000002.JPEG 7\n');
    expect(() => listLabelsFile(dir, bad, { classes: ['a', 'b'] })).toThrow(/bad.txt:2: class index 7 out of range \(2 classes\)/);
    writeFileSync(bad, 'ILSVRC2012_val_00000001.JPEG cat\n');
    expect(() => listLabelsFile(dir, bad, { classes: ['dog'] })).toThrow(/bad.txt:1: unknown class 'cat'/);
    expect(() => listLabelsFile(dir, join(root, 'none.txt'))).toThrow(/none.txt: cannot open \(no such file\)/);
  });
});

describe('spreadSubset', () => {
  it('takes evenly spaced items so every class of a sorted listing is represented', () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    expect(spreadSubset(items, 4)).toEqual([0, 25, 50, 75]);
    expect(spreadSubset(items, 100)).toEqual(items);
    expect(spreadSubset(items, 1000)).toEqual(items);
    const classes = new Set(
      spreadSubset(
        Array.from({ length: 3925 }, (_, i) => Math.floor(i / 392.5)),
        20,
      ),
    );
    expect(classes.size).toBe(10);
  });
});
