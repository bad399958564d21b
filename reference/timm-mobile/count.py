"""Params and MACs of timm 1.0.29's mobile baselines (MobileNetV1/V2/V3, MnasNet), as effnet's models.test.ts asserts them.

params: sum(p.numel()) over model.parameters() (BN running statistics are buffers, not counted).
MACs: multiply-adds of every Conv2d and Linear for one image at the model's default resolution,
counted with forward hooks: Conv2d = out.numel() * in_channels/groups * kh * kw, Linear = out.numel() * in_features.

Run (never from tests):
  python3 -m venv /tmp/venv && /tmp/venv/bin/pip install torch timm
  /tmp/venv/bin/python reference/timm-mobile/count.py [--check] > reference/timm-mobile/summary.json  # --check: reproduce ../shared/fixtures-mobilenet counts first (on stderr)
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
    k.replace('_', '-'): (k, 224)
    for k in ['mobilenetv1_100', 'mobilenetv1_125', 'mobilenetv2_100', 'mobilenetv2_140', 'mobilenetv2_120d', 'mobilenetv3_large_100', 'mobilenetv3_large_075',
              'mobilenetv3_small_100', 'tf_mobilenetv3_large_100', 'mnasnet_100', 'semnasnet_100']
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
        for path in ['../shared/fixtures-mobilenet/summary.json']:
            for folder, v in json.load(open(os.path.join(here, '..', '..', path))).items():
                if not folder.startswith('timm-'):
                    continue
                got = count(folder[5:], v['res'])
                assert got == (v['params'], v['macs']), (folder, got, v)
                print('ok', folder, got, file=sys.stderr)
    out = {k: dict(zip(('timm', 'resolution', 'params', 'macs'), (n, r, *count(n, r)))) for k, (n, r) in MODELS.items()}
    print(json.dumps(out, indent=1))
