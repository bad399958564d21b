import { describe, expect, it } from 'vitest';
import { declaredLayout, describeImageModel, IMAGENET_MEAN, IMAGENET_STD, metadataLabels, metadataPreprocess } from './metadata.js';

const io = { source: 'dir/model.onnx', inputName: 'input', inputShape: ['N', 3, 240, 240], outputShape: ['N', 1000] };

describe('describeImageModel (effnet ONNX metadata → preprocessing + labels)', () => {
  it('reads what effnet export writes', () => {
    const m = describeImageModel(
      {
        'effnet.model': 'efficientnet-b1',
        'effnet.mean': '0.5,0.5,0.5',
        'effnet.std': '0.25,0.5,1',
        'effnet.crop_pct': '0.882',
        'effnet.interpolation': 'bilinear',
        'effnet.labels': JSON.stringify(Array.from({ length: 1000 }, (_, i) => `c${i}`)),
      },
      io,
    );
    expect(m.name).toBe('efficientnet-b1');
    expect(m.resolution).toBe(240);
    expect(m.numClasses).toBe(1000);
    expect(m.preprocess).toEqual({ resolution: 240, mean: [0.5, 0.5, 0.5], std: [0.25, 0.5, 1], cropPct: 0.882, interpolation: 'bilinear' });
    expect(m.labels?.[999]).toBe('c999');
  });

  it("gives other tools' files timm's ImageNet defaults and the file name", () => {
    const m = describeImageModel({}, io);
    expect(m.name).toBe('model.onnx');
    expect(m.preprocess).toEqual({ resolution: 240, mean: IMAGENET_MEAN, std: IMAGENET_STD, cropPct: 0.875, interpolation: 'bicubic' });
    expect(m.labels).toBeUndefined();
  });

  it('refuses malformed preprocessing values, naming the file and the key (never a silent default)', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'effnet.mean': '1,2' }, /^m\.onnx: metadata effnet\.mean '1,2': expected three comma-separated numbers/],
      [{ 'effnet.mean': '0.1,,0.3' }, /effnet\.mean '0\.1,,0\.3'/],
      [{ 'effnet.std': '0.2,0,0.2' }, /effnet\.std '0\.2,0,0\.2': expected three comma-separated positive numbers/],
      [{ 'effnet.crop_pct': '1.5' }, /effnet\.crop_pct '1\.5': expected a number in \(0, 1\]/],
      [{ 'effnet.crop_pct': 'x' }, /effnet\.crop_pct 'x'/],
      [{ 'effnet.interpolation': 'lanczos' }, /effnet\.interpolation 'lanczos': expected bicubic or bilinear/],
    ];
    for (const [meta, msg] of cases) expect(() => metadataPreprocess(meta, 'm.onnx'), JSON.stringify(meta)).toThrow(msg);
    expect(metadataPreprocess({})).toEqual({ mean: IMAGENET_MEAN, std: IMAGENET_STD, cropPct: 0.875, interpolation: 'bicubic' });
  });

  it('uses effnet.resolution / effnet.num_classes only where the shapes are symbolic', () => {
    const meta = { 'effnet.resolution': '300', 'effnet.num_classes': '10' };
    const dyn = describeImageModel(meta, { ...io, inputShape: ['N', 3, 'H', 'W'], outputShape: ['N', 'C'] });
    expect([dyn.resolution, dyn.numClasses]).toEqual([300, 10]);
    const fixed = describeImageModel(meta, io);
    expect([fixed.resolution, fixed.numClasses]).toEqual([240, 1000]);
    expect(describeImageModel({}, { ...io, outputShape: [] }).numClasses).toBeUndefined();
  });

  it('rejects inputs that are not [N,3,R,R], naming the file and the input', () => {
    for (const inputShape of [
      ['N', 1, 224, 224],
      ['N', 3, 224, 200],
      [3, 224, 224],
      ['N', 3, 'H', 'W'],
      ['N', 3, 224, 'W'],
      [1, 3, null, undefined],
    ])
      expect(() => describeImageModel({}, { ...io, inputShape })).toThrow(
        /^dir\/model\.onnx: input 'input' is \[.*\]; expected an image input \[N,3,R,R\] \(or \[N,R,R,3\]\) with R a positive integer$/,
      );
    // Channels-last float input (--layout nhwc) and decoded pictures (--embed-preprocessing).
    expect(describeImageModel({}, { ...io, inputShape: ['N', 160, 160, 3] })).toMatchObject({ input: 'nhwc', resolution: 160 });
    expect(describeImageModel({}, { ...io, inputShape: ['N', 3, 160, 160] }).input).toBe('nchw');
    expect(describeImageModel({ 'effnet.resolution': '160', 'effnet.embedded_preprocessing': 'true' }, { ...io, inputType: 'uint8', inputShape: ['N', 'H', 'W', 3] })).toMatchObject({
      input: 'pixels',
      resolution: 160,
    });
    expect(() => describeImageModel({}, { ...io, inputType: 'uint8', inputShape: ['N', 'H', 'W', 3] })).toThrow(/an embedded-preprocessing model needs effnet.resolution/);
    expect(() => describeImageModel({ 'effnet.resolution': '160' }, { ...io, inputType: 'uint8', inputShape: ['N', 'H', 'W', 4] })).toThrow(/takes uint8 pictures \[N,H,W,3\]/);
    expect(() => describeImageModel({}, { ...io, inputShape: ['N', 3, -5, -5] })).toThrow(/model\.onnx: input 'input' is \[N,3,-5,-5\]; expected an image input/);
    expect(() => describeImageModel({}, { ...io, inputShape: ['N', 3, 4097, 4097] })).toThrow(/declares 4097x4097 pixels; effnet reads image models up to 4096x4096/);
    expect(describeImageModel({}, { ...io, inputShape: ['N', 3, 4096, 4096] }).resolution).toBe(4096);
    expect(() => describeImageModel({}, { ...io, inputShape: [0, 3, 8, 8] })).toThrow(/declares a batch size of 0/);
    expect(() => describeImageModel({}, { ...io, outputShape: ['N', 2e6] })).toThrow(/output declares 2000000 classes/);
    expect(() => describeImageModel({}, { ...io, inputShape: [1, 3, null, undefined] })).toThrow('is [1,3,?,?]');
  });

  it('rejects effnet.labels that are not a list of strings, or not one per class', () => {
    expect(() => metadataLabels({ 'effnet.labels': '{"a": 1}' }, 'm.onnx')).toThrow('m.onnx: metadata effnet.labels is not a JSON list of strings');
    expect(() => metadataLabels({ 'effnet.labels': '[' }, 'm.onnx')).toThrow(/not a JSON list of strings/);
    expect(() => describeImageModel({ 'effnet.labels': '["a","b"]' }, io)).toThrow('dir/model.onnx: metadata effnet.labels has 2 names but the model has 1000 classes');
    expect(metadataLabels({ 'effnet.labels': '["a","b"]' }, 'm.onnx', 2)).toEqual(['a', 'b']);
  });
});

describe('the input layout from metadata (effnet.input_layout), the shape only for foreign files', () => {
  const io = { source: 'm.onnx', inputName: 'input', inputShape: ['N', 3, 3, 3] as const, outputShape: ['N', 10] as const, inputType: 'float32' };
  it('an effnet NHWC file at 3×3 is NHWC although its shape [N,3,3,3] reads as NCHW', () => {
    expect(describeImageModel({ 'effnet.model': 'efficientnet-b0', 'effnet.input_layout': 'NHWC, RGB, float32 in [0,1] then normalized' }, io).input).toBe('nhwc');
    expect(describeImageModel({ 'effnet.model': 'efficientnet-b0' }, io).input).toBe('nchw');
  });
  it('an effnet file without effnet.input_layout is NCHW whatever its shape; a foreign one goes by the shape', () => {
    const nhwcShape = { ...io, inputShape: ['N', 8, 8, 3] as const };
    expect(declaredLayout({ 'effnet.resolution': '8' })).toBe('nchw');
    expect(declaredLayout({})).toBeUndefined();
    expect(describeImageModel({}, nhwcShape).input).toBe('nhwc');
  });
});
