"""Float64 evaluation of an exported backbone file against ../shared/fixtures-features (reference data only).

onnxruntime has no float64 Conv, so this runs the file through onnx's reference evaluator
(/work/venv: onnx >= 1.13) with every float32 tensor widened to float64: it separates the file's
exactness from onnxruntime's float32 rounding (ResNet-50's deep, un-normalized feature maps).

  effnet export resnet50 --weights w.safetensors --dynamic-size --features -o r50.onnx
  /work/venv/bin/python bench/features-float64.py r50.onnx ../shared/fixtures-features/timm-resnet50
"""
import json, struct, subprocess, sys, time

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper as nh
from onnx.reference import ReferenceEvaluator

path, folder = sys.argv[1:3]
m = onnx.load(path)
for i, t in enumerate(m.graph.initializer):
    if t.data_type == TensorProto.FLOAT:
        m.graph.initializer[i].CopyFrom(nh.from_array(nh.to_array(t).astype(np.float64), t.name))
for v in list(m.graph.input) + list(m.graph.output) + list(m.graph.value_info):
    if v.type.tensor_type.elem_type == TensorProto.FLOAT:
        v.type.tensor_type.elem_type = TensorProto.DOUBLE


def load(p):
    b = open(p, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8 + n])
    return {k: np.frombuffer(b[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]], dtype=np.float32).reshape(v['shape']) for k, v in h.items() if k != '__metadata__'}


ref = load(f'{folder}/features.safetensors')
shape = json.load(open(f'{folder}/expected.json'))['input']['shape']
# effnet's formula input, from effnet itself (the same function the tests use).
js = f"import('./packages/efficientnet/dist/index.js').then(m=>process.stdout.write(Buffer.from(m.formulaInput({json.dumps(shape)}).buffer)))"
x = np.frombuffer(subprocess.run(['node', '-e', js], capture_output=True, check=True).stdout, dtype=np.float32).reshape(shape)
t = time.time()
y = dict(zip([o.name for o in m.graph.output], ReferenceEvaluator(m).run(None, {m.graph.input[0].name: x.astype(np.float64)})))
print(json.dumps({'file': path, 'seconds': round(time.time() - t, 1), 'max_abs_diff_float64': {k: float(np.abs(y[k] - ref['pre_logits' if k == 'embedding' else k]).max()) for k in y}}))
