import { describe, expect, it } from 'vitest';
import { allImagenetWnids, displayLabel, imagenetClass, imagenetClasses } from './labels.js';

describe('ImageNet classes (imagenet-classes.json)', () => {
  it('has the 1000 classes in the standard index order', () => {
    const c = imagenetClasses();
    expect(c).toHaveLength(1000);
    expect(c[0]).toEqual({ index: 0, wnid: 'n01440764', name: 'tench' });
    expect(c[999]!.wnid).toBe('n15075141');
    const wnids = c.map((x) => x.wnid);
    expect([...wnids].sort()).toEqual(wnids); // index = position in sorted WordNet ids
  });

  it('maps WordNet ids to names and leaves other labels alone', () => {
    expect(imagenetClass('n03888257')?.name).toBe('parachute');
    expect(displayLabel('n03888257')).toBe('parachute (n03888257)');
    expect(displayLabel('cat')).toBe('cat');
    expect(displayLabel('n00000000')).toBe('n00000000');
    expect(allImagenetWnids(['n01440764', 'n03888257'])).toBe(true);
    expect(allImagenetWnids(['n01440764', 'dog'])).toBe(false);
  });
});
