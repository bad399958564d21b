/**
 * Class names: the ImageNet-1k list shipped as data (`imagenet-classes.json`, index order of
 * timm/torchvision/Keras) and WordNet id → readable name. Pure: the list is a JSON module, so it
 * loads the same in Node and in a bundler; reading label files from disk is `readLabels` in
 * `@effnet/images`.
 */
import classes from './imagenet-classes.json' with { type: 'json' };

export interface ImagenetClass {
  readonly index: number;
  readonly wnid: string;
  readonly name: string;
}

let imagenet: readonly ImagenetClass[] | undefined;

/** The 1,000 ImageNet-1k classes in model output order. */
export function imagenetClasses(): readonly ImagenetClass[] {
  if (!imagenet) {
    const list = classes as readonly ImagenetClass[];
    if (list.length !== 1000 || list.some((c, i) => c.index !== i)) throw new Error('imagenet-classes.json: expected the 1000 ImageNet classes in index order');
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
