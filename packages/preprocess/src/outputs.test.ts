import { describe, expect, it } from 'vitest';
import { describeImageModel } from './metadata.js';
import { metadataOutputs, noClassesMessage, rankClasses } from './outputs.js';

describe('effnet.outputs: what a file outputs, and its classes ranked the one way classify and the page rank them', () => {
  it('decodes what the deploy passes write, and refuses anything else naming the key', () => {
    expect(metadataOutputs({})).toEqual({ kind: 'logits' });
    expect(metadataOutputs({ 'effnet.outputs': 'probs' })).toEqual({ kind: 'probs' });
    expect(metadataOutputs({ 'effnet.outputs': 'topk:5' })).toEqual({ kind: 'topk', k: 5 });
    expect(metadataOutputs({ 'effnet.outputs': 'features.2,features.3,features.4,embedding' })).toEqual({ kind: 'none', names: ['features.2', 'features.3', 'features.4', 'embedding'] });
    expect(metadataOutputs({ 'effnet.outputs': 'embedding' })).toEqual({ kind: 'none', names: ['embedding'] });
    expect(() => metadataOutputs({ 'effnet.outputs': 'topk:0' }, 'm.onnx')).toThrow("m.onnx: metadata effnet.outputs 'topk:0': expected logits, probs, topk:K");
    expect(() => metadataOutputs({ 'effnet.outputs': 'boxes' }, 'm.onnx')).toThrow("m.onnx: metadata effnet.outputs 'boxes'");
  });

  it('logits: softmax probabilities, best first; probs: the values as they are; topk: the scores with the classes output', () => {
    const logits = [0.5, 2, -1, 2.5];
    const e = logits.map((v) => Math.exp(v - 2.5)); // max-subtracted, as rankClasses sums
    const sum = e.reduce((a, b) => a + b);
    expect(rankClasses({ kind: 'logits' }, logits, 4, 0, 2)).toEqual([
      { index: 3, probability: e[3]! / sum },
      { index: 1, probability: e[1]! / sum },
    ]);
    // Row 1 of a [2,4] batch.
    expect(rankClasses({ kind: 'probs' }, [0, 0, 0, 1, 0.1, 0.6, 0.05, 0.25], 4, 1, 3)).toEqual([
      { index: 1, probability: 0.6 },
      { index: 3, probability: 0.25 },
      { index: 0, probability: 0.1 },
    ]);
    // topk: classes in the second output (int64), already ranked; at most K come back.
    expect(rankClasses({ kind: 'topk', k: 2 }, [0.7, 0.2], 2, 0, 5, BigInt64Array.from([7n, 3n]))).toEqual([
      { index: 7, probability: 0.7 },
      { index: 3, probability: 0.2 },
    ]);
    expect(() => rankClasses({ kind: 'none', names: ['embedding'] }, [1], 1, 0, 5)).toThrow(/an embedding file \(--head none\).*no classes to show/);
  });

  it('describeImageModel: a topk file has effnet.num_classes classes (not K), a backbone none', () => {
    const io = { source: 'm.onnx', inputName: 'image', inputShape: ['N', 'H', 'W', 3], outputShape: ['N', 5], inputType: 'uint8' };
    const meta = { 'effnet.embedded_preprocessing': 'true', 'effnet.resolution': '160', 'effnet.num_classes': '10', 'effnet.labels': JSON.stringify([...'abcdefghij']) };
    const topk = describeImageModel({ ...meta, 'effnet.outputs': 'topk:5' }, io);
    expect([topk.numClasses, topk.outputs, topk.labels?.length]).toEqual([10, { kind: 'topk', k: 5 }, 10]);
    const backbone = describeImageModel({ 'effnet.outputs': 'features.0,features.1' }, { source: 'f.onnx', inputName: 'input', inputShape: ['N', 3, 224, 224], outputShape: ['N', 16, 112, 112] });
    expect([backbone.numClasses, backbone.outputs.kind, backbone.labels]).toEqual([undefined, 'none', undefined]);
    expect(noClassesMessage('f.onnx', { names: ['features.0', 'features.1'] })).toBe(
      'f.onnx is a backbone file (--features): its outputs are features.0, features.1, with no class scores, so there are no classes to show',
    );
  });
});
