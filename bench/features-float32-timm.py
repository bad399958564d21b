"""timm itself in float32 against ../shared/fixtures-features (float64): what float32 can reach (reference data only).

The fixtures were computed by timm in float64; effnet's exports run in float32 (onnxruntime has no
float64 Conv). This runs timm 1.0.29's own model in float32 and in float64 on the fixture's weights
and formula input, so the float32 rounding floor of each tensor is known: where timm in float32 is
itself above the 2e-4 bound (ResNet-50's features.3/.4), no float32 runtime can be held to it.

  /work/venv/bin/python bench/features-float32-timm.py ../shared/fixtures-features/timm-resnet50 [...]

Needs /work/venv (torch, timm; torchvision is stubbed as reference/timm-families does) and the built
packages (the weights are written by effnet's own fixtureTensors, as the tests do).
"""
import json, os, struct, subprocess, sys, tempfile, types

here = os.path.dirname(os.path.abspath(__file__))
stub = types.ModuleType('torchvision')
stub.__path__ = []
exec(open(os.path.join(here, '..', 'reference', 'timm-families', 'torchvision_stub.py')).read(), stub.__dict__)
sys.modules['torchvision'] = stub

import numpy as np
import torch
import timm
from safetensors.torch import load_file


def load(p):
    b = open(p, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8 + n])
    return {k: np.frombuffer(b[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]], dtype=np.float32).reshape(v['shape']) for k, v in h.items() if k != '__metadata__'}


torch.set_num_threads(1)
for folder in sys.argv[1:]:
    e = json.load(open(f'{folder}/expected.json'))
    shape = e['input']['shape']
    ref = load(f'{folder}/features.safetensors')
    with tempfile.TemporaryDirectory() as tmp:
        w = os.path.join(tmp, 'w.safetensors')
        x_path = os.path.join(tmp, 'x.bin')
        js = (
            "import('./packages/efficientnet/dist/index.js').then(m=>{const fs=require('node:fs');"
            f"const fd=fs.openSync({json.dumps(w)},'w');m.writeSafetensors({{write:(b)=>void fs.writeSync(fd,b)}},m.fixtureTensors(m.readFixture({json.dumps(os.path.abspath(folder))})));fs.closeSync(fd);"
            f"fs.writeFileSync({json.dumps(x_path)},Buffer.from(m.formulaInput({json.dumps(shape)}).buffer))}})"
        )
        subprocess.run(['node', '-e', js], check=True, cwd=os.path.join(here, '..'))
        weights = load_file(w)
        x = torch.from_numpy(np.fromfile(x_path, dtype=np.float32).reshape(shape))
    full = timm.create_model(e['model'], pretrained=False).eval()
    full.load_state_dict(weights)
    feats = timm.create_model(e['model'], features_only=True, out_indices=e['out_indices'], pretrained=False).eval()
    feats.load_state_dict({k: v for k, v in weights.items() if k in feats.state_dict()}, strict=True)
    out = {}
    for dt, name in ((torch.float64, 'float64'), (torch.float32, 'float32')):
        with torch.no_grad():
            xs = x.to(dt)
            got = {f'features.{i}': t for i, t in zip(e['out_indices'], feats.to(dt)(xs))}
            f = full.to(dt)
            got['pre_logits'] = f.forward_head(f.forward_features(xs), pre_logits=True)
            got['logits'] = f(xs)
        out[name] = {k: float(np.abs(v.numpy().astype(np.float32) - ref[k]).max()) for k, v in got.items()}
    print(json.dumps({'folder': os.path.basename(folder.rstrip('/')), 'model': e['model'], 'input': shape, 'max_abs_diff': out}))
