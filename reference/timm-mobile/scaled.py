"""timm 1.0.29's own width/depth scaling of the mobile baselines (channel_multiplier, depth_multiplier of
its _gen_* functions), counted as count.py counts: what `effnet info ID --width W --depth D` must equal.

Run (never from tests): /tmp/venv/bin/python reference/timm-mobile/scaled.py > reference/timm-mobile/scaled.json
"""
import json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import count  # installs the torchvision stand-in, imports torch and timm
import torch
import timm.models.efficientnet as ef
import timm.models.mobilenetv3 as m3

# effnet id + flags -> timm generator, variant, channel multiplier, depth multiplier, resolution
CASES = {
    'mobilenetv3-large-100 --depth 2': (m3._gen_mobilenet_v3, 'mobilenetv3_large_100', 1.0, 2.0, 224),
    'mobilenetv2-100 --width 2': (ef._gen_mobilenet_v2, 'mobilenetv2_100', 2.0, 1.0, 224),
    'mobilenetv2-100 --depth 4': (ef._gen_mobilenet_v2, 'mobilenetv2_100', 1.0, 4.0, 224),
    'mobilenetv1-100 --width 1.2 --depth 1.4 --resolution 288': (ef._gen_mobilenet_v1, 'mobilenetv1_100', 1.2, 1.4, 288),
}


def measure(gen, variant, w, d, res):
    with torch.device('meta'):
        m = gen(variant, w, depth_multiplier=d).eval()
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
    print(json.dumps({k: dict(zip(('params', 'macs'), measure(*v))) for k, v in CASES.items()}, indent=1))
