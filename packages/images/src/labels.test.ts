import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLabels, toImagenetLabels } from './labels.js';

const dir = mkdtempSync(join(tmpdir(), 'effnet-labels-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('toImagenetLabels', () => {
  it('relabels an ImageNet-subset folder with ImageNet indices', () => {
    const ds = {
      root: 'x',
      classes: ['n01440764', 'n03888257'],
      samples: [
        { path: 'a', key: 'a', label: 1 },
        { path: 'b', key: 'b', label: 0 },
      ],
    };
    const r = toImagenetLabels(ds);
    expect(r.samples.map((s) => s.label)).toEqual([701, 0]);
    expect(r.classes[701]).toBe('n03888257');
    expect(() => toImagenetLabels({ ...ds, classes: ['cat', 'dog'] })).toThrow(/not all ImageNet WordNet ids/);
  });
});

describe('readLabels', () => {
  it("reads 'imagenet', JSON lists (strings, objects, {classes}), text files and ImageFolder directories", () => {
    expect(readLabels('imagenet')[1]).toBe('goldfish');
    const p = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
    expect(readLabels(p('a.json', '["cat", "dog"]'))).toEqual(['cat', 'dog']);
    expect(readLabels(p('b.json', '[{"index": 0, "wnid": "n1", "name": "cat"}, {"wnid": "n2"}]'))).toEqual(['cat', 'n2']);
    expect(readLabels(p('c.json', '{"classes": ["n01440764", "n02102040"], "model": "x"}'))).toEqual(['n01440764', 'n02102040']);
    expect(readLabels(p('d.txt', 'cat\r\n\ndog\n  bird  \n'))).toEqual(['cat', 'dog', 'bird']);
    for (const c of ['b', 'a', '.hidden']) mkdirSync(join(dir, 'folder', c), { recursive: true });
    writeFileSync(join(dir, 'folder', 'file.txt'), '');
    expect(readLabels(join(dir, 'folder'))).toEqual(['a', 'b']);
  });

  it('names the labels file in errors', () => {
    expect(() => readLabels(join(dir, 'missing.json'))).toThrow(/--labels .*missing.json: no such file/);
    writeFileSync(join(dir, 'bad.json'), '{"classes": 3}');
    expect(() => readLabels(join(dir, 'bad.json'))).toThrow(/bad.json: expected a JSON list of labels/);
    writeFileSync(join(dir, 'bad2.json'), '[1, 2]');
    expect(() => readLabels(join(dir, 'bad2.json'))).toThrow(/bad2.json: entry 0 is neither a string nor an object with a name/);
    writeFileSync(join(dir, 'broken.json'), '[');
    expect(() => readLabels(join(dir, 'broken.json'))).toThrow(/broken.json: invalid JSON/);
    writeFileSync(join(dir, 'empty.txt'), '\n\n');
    expect(() => readLabels(join(dir, 'empty.txt'))).toThrow(/empty.txt: file has no labels/);
  });
});
