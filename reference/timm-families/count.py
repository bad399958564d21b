"""Params and MACs of timm 1.0.29's EfficientNet families, as effnet's models.test.ts asserts them.

params: sum(p.numel()) over model.parameters() (BN running statistics are buffers, not counted).
MACs: multiply-adds of every Conv2d and Linear for one image at the model's default resolution,
counted with forward hooks: Conv2d = out.numel() * in_channels/groups * kh * kw, Linear = out.numel() * in_features.

Run (never from tests):
  python3 -m venv /tmp/venv && /tmp/venv/bin/pip install torch timm
  /tmp/venv/bin/python reference/timm-families/count.py [--check] > reference/timm-families/counts.json  # --check: reproduce ../shared fixture counts first (on stderr)
torchvision is absent from the local mirror; timm only imports it, so torchvision_stub.py stands in.
"""
import json, os, sys, types

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
stub = types.ModuleType('torchvision')
stub.__path__ = []
exec(open(os.path.join(here, 'torchvision_stub.py')).read(), stub.__dict__)
sys.modules['torchvision'] = stub

import torch
import timm

# effnet id -> (timm name, default resolution)
MODELS = {
    **{f'tf-efficientnetv2-{v}': (f'tf_efficientnetv2_{v}', r) for v, r in [('b0', 224), ('b1', 240), ('b2', 260), ('b3', 300), ('s', 384), ('m', 480), ('l', 480), ('xl', 512)]},
    **{f'efficientnetv2-{v}': (f'efficientnetv2_{v}', r) for v, r in [('s', 384), ('m', 480), ('l', 480), ('xl', 512)]},
    **{f'{p}efficientnet-lite{i}': (f'{p.replace("-", "_")}efficientnet_lite{i}', r) for p in ['tf-', ''] for i, r in enumerate([224, 240, 260, 280, 300])},
}


def count(name, res):
    with torch.device('meta'):
        m = timm.create_model(name, pretrained=False).eval()
    params = sum(p.numel() for p in m.parameters())
    macs = 0

    def conv(mod, inp, out):
        nonlocal macs
        macs += out.numel() * (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]

    def linear(mod, inp, out):
        nonlocal macs
        macs += out.numel() * mod.in_features

    for mod in m.modules():
        if isinstance(mod, torch.nn.Conv2d):
            mod.register_forward_hook(conv)
        elif isinstance(mod, torch.nn.Linear):
            mod.register_forward_hook(linear)
    with torch.no_grad():
        m(torch.zeros(1, 3, res, res, device='meta'))
    return params, macs


if __name__ == '__main__':
    if '--check' in sys.argv:
        for path in ['../shared/fixtures/summary.json', '../shared/fixtures-families/summary.json']:
            for folder, v in json.load(open(os.path.join(here, '..', '..', path))).items():
                if not folder.startswith('timm-'):
                    continue
                got = count(folder[5:], v['res'])
                assert got == (v['params'], v['macs']), (folder, got, v)
                print('ok', folder, got, file=sys.stderr)
    out = {k: dict(zip(('timm', 'resolution', 'params', 'macs'), (n, r, *count(n, r)))) for k, (n, r) in MODELS.items()}
    print(json.dumps(out, indent=1))
