import { describe, expect, it } from 'vitest';
import { evalGeometry, roundHalfEven } from './geometry.js';

describe('roundHalfEven (Python round)', () => {
  it.each([
    [0.5, 0],
    [1.5, 2],
    [2.5, 2],
    [3.5, 4],
    [-2.5, -2],
    [-1.5, -2],
    [2.4999, 2],
    [2.5001, 3],
    [7, 7],
  ])('round(%d) = %d', (x, r) => expect(roundHalfEven(x)).toBe(r));
});

describe('evalGeometry: timm scale_size = floor(R / crop_pct), torchvision Resize(int) + CenterCrop', () => {
  // [W, H, R, cropPct] → [resizeW, resizeH, left, top]; worked out by hand from the torchvision rules.
  it.each([
    // Imagenette's 224x224 images: a downscale to 182 at R=160, an upscale to 256 at R=224.
    [224, 224, 160, 0.875, 182, 182, 11, 11],
    [224, 224, 224, 0.875, 256, 256, 16, 16],
    // ImageNet's typical 500x375 / 375x500: long side = floor(scale * long / short).
    [500, 375, 224, 0.875, 341, 256, 58, 16], // 256*500/375 = 341.33; (341-224)/2 = 58.5 → 58 (half to even)
    [375, 500, 224, 0.875, 256, 341, 16, 58],
    [500, 333, 224, 0.875, 384, 256, 80, 16], // 256*500/333 = 384.38
    // crop_pct 1: the crop is the whole shorter side.
    [640, 480, 300, 1, 400, 300, 50, 0],
    // tf_efficientnet_b3 eval: R=300, crop_pct 0.904 → floor(331.858) = 331; (331-300)/2 = 15.5 → 16 (half to even)
    [331, 331, 300, 0.904, 331, 331, 16, 16],
    // B7: R=600, crop_pct 0.949 → floor(632.24) = 632.
    [1000, 800, 600, 0.949, 790, 632, 95, 16],
    // crop_pct 1 and an odd difference: (185 - 160) / 2 = 12.5 → 12, (187 - 160) / 2 = 13.5 → 14.
    [185, 160, 160, 1, 185, 160, 12, 0],
    [160, 187, 160, 1, 160, 187, 0, 14],
    [1, 1, 32, 0.875, 36, 36, 2, 2],
    [2, 100, 32, 0.875, 36, 1800, 2, 884],
  ])('%dx%d at R=%d crop_pct %d → %dx%d, crop at (%d, %d)', (w, h, R, cropPct, rw, rh, left, top) => {
    const g = evalGeometry(w, h, { resolution: R, cropPct });
    expect([g.resizeWidth, g.resizeHeight]).toEqual([rw, rh]);
    expect(g.crop).toEqual({ left, top, width: R, height: R });
    expect(g.pad).toEqual({ left: 0, top: 0 });
    expect(g.scale).toBe(Math.min(rw, rh));
  });

  it('pads with floor((R - size) / 2) before when crop_pct > 1 (torchvision CenterCrop pads with zeros)', () => {
    // floor(224 / 1.2) = 186: the 186x186 image sits at (19, 19) inside the 224x224 output.
    const g = evalGeometry(300, 300, { resolution: 224, cropPct: 1.2 });
    expect([g.resizeWidth, g.resizeHeight]).toEqual([186, 186]);
    expect(g.crop).toEqual({ left: 0, top: 0, width: 186, height: 186 });
    expect(g.pad).toEqual({ left: 19, top: 19 });
    // A wide image: only the short dimension is padded; the long one is cropped at round((248 - 224) / 2) = 12.
    const w = evalGeometry(400, 300, { resolution: 224, cropPct: 1.2 });
    expect([w.resizeWidth, w.resizeHeight]).toEqual([248, 186]);
    expect(w.crop).toEqual({ left: 12, top: 0, width: 224, height: 186 });
    expect(w.pad).toEqual({ left: 0, top: 19 });
    // odd padding: 224 - 185 = 39 → 19 before, 20 after
    expect(evalGeometry(185, 185, { resolution: 224, cropPct: 224 / 185.5 }).pad).toEqual({ left: 19, top: 19 });
  });

  it('rejects sizes that are not positive integers', () => {
    expect(() => evalGeometry(0, 10, { resolution: 224, cropPct: 0.875 })).toThrow(/image size 0x10/);
    expect(() => evalGeometry(10, 10, { resolution: 22.5, cropPct: 0.875 })).toThrow(/resolution 22.5/);
    expect(() => evalGeometry(10, 10, { resolution: 224, cropPct: 0 })).toThrow(/crop_pct 0/);
  });
});
