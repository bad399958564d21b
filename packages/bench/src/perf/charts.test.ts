import { describe, expect, it } from 'vitest';
import { placeLabels } from './charts.js';

describe('placeLabels', () => {
  it('keeps the labels of a cluster apart (NASNet-A, SENet, PNASNet, AmoebaNet-A in Figure 1)', () => {
    // The paper's four ~85M-parameter models within 0.2 points of each other.
    const pts = [
      { x: 89, y: 82.7, text: 'NASNet-A' },
      { x: 146, y: 82.7, text: 'SENet' },
      { x: 86, y: 82.9, text: 'PNASNet' },
      { x: 87, y: 82.8, text: 'AmoebaNet-A' },
      { x: 19, y: 82.9, text: 'EfficientNet-B4' },
    ];
    const o = { xDomain: [3, 1500] as const, yDomain: [75, 86] as const, logX: true, width: 560, height: 360 };
    const spots = placeLabels(pts, o);
    // Back to pixels: boxes of ~5.8 px per character, 12 px high.
    const px = (x: number) => ((Math.log(x) - Math.log(3)) / (Math.log(1500) - Math.log(3))) * 560;
    const py = (y: number) => 360 - ((y - 75) / 11) * 360;
    const boxes = spots.map((s, i) => {
      const w = pts[i]!.text.length * 5.8 + 2;
      const x = px(s.lx);
      return s.align === 'left' ? [x, py(s.ly) - 10, x + w, py(s.ly) + 2] : [x - w, py(s.ly) - 10, x, py(s.ly) + 2];
    });
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i]!, boxes[j]!];
        const e = 0.5; // touching boxes (rounding of the round trip through data units) are fine
        const overlap = a[0]! < b[2]! - e && b[0]! < a[2]! - e && a[1]! < b[3]! - e && b[1]! < a[3]! - e;
        expect(overlap, `${pts[i]!.text} / ${pts[j]!.text}`).toBe(false);
      }
  });
});
