import { describe, expect, it } from 'vitest';
import { flatten, globalAveragePool, Graph } from '@effnet/graph-builder';
import { serializeModel } from '@effnet/onnx-export';
import { untrainedWeights } from '@effnet/preprocess';
import { readModelInfo } from './model.js';

function model(metadata: Record<string, string>): Uint8Array {
  const g = new Graph('m');
  const x = g.input('input', 'float32', ['N', 3, 32, 32]);
  g.output(flatten(globalAveragePool(x)), 'logits');
  return serializeModel(g.build(), { opset: 17, metadata });
}

describe('readModelInfo (the page reads what effnet serve serves)', () => {
  it("uses the class names stored in the file (effnet.labels), not 'class N'", () => {
    const info = readModelInfo(model({ 'effnet.labels': JSON.stringify(['n01440764', 'n02102040', 'golf ball']) }), 'b0.onnx');
    expect(info.labels).toEqual(['n01440764', 'n02102040', 'golf ball']);
    expect(info.numClasses).toBe(3);
  });

  it('tells untrained default weights from trained ones (the page shows a notice for the first)', () => {
    const untrained = readModelInfo(model({ 'effnet.weights': 'formula; BatchNorm statistics calibrated on formulaInput([8,3,R,R]) in one forward pass' }), 'b0.onnx');
    const trained = readModelInfo(model({ 'effnet.weights': 'b0-imagenette.safetensors' }), 'b0.onnx');
    expect([untrainedWeights(untrained.metadata), untrainedWeights(trained.metadata), untrainedWeights({})]).toEqual([true, false, false]);
  });
});
