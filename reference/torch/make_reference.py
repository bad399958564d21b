#!/usr/bin/python3
"""
Independent reference logits for the variants and resolutions ../shared/fixtures does not cover.

Built with PyTorch + torchvision (Debian's python3-torch 1.13 / python3-torchvision 0.14; no
pretrained weights): torchvision's efficientnet_bN with every parameter from the fixture formula
(see ../shared/fixtures/README.md) and BatchNorm tensors derived from it:
    weight = f32(1 + fill(name)), bias = fill(name), running_mean = fill(name),
    running_var = f32(scale[layer] * (1 + fill(name)))   (rank-1 fill is uniform in ±0.1)
where scale[layer] (one float64 per BatchNorm layer, stored in the JSON as `bn_var_scale`) is the
variance of that layer's input on the formula input, measured in forward order, so that every
layer sees normalized activations and the logits depend strongly on every conv's padding.
Two families:
  tv  torchvision as is (symmetric padding; BN eps 1e-5 for B0-B4, 1e-3 for B5-B7)
  tf  the same modules with TensorFlow "SAME" padding applied dynamically before every conv
      (the way timm's Conv2dSame does it) and BN eps 1e-3: the paper's own models.
Input: the fixture formula input [1, 3, R, R]. Output: one JSON per (family, variant,
resolution) with float64 logits, written to the directory given (default: beside this script).

Run: /usr/bin/python3 reference/torch/make_reference.py [OUT_DIR]
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

CASES = [
    # family, variant, resolution
    ("tv", "b0", 225), ("tv", "b1", 240), ("tv", "b2", 260), ("tv", "b3", 300), ("tv", "b4", 380),
    ("tv", "b5", 456), ("tv", "b6", 528), ("tv", "b7", 600),
    ("tf", "b0", 225), ("tf", "b1", 240), ("tf", "b2", 260), ("tf", "b3", 301), ("tf", "b4", 380),
    ("tf", "b5", 456), ("tf", "b6", 528), ("tf", "b7", 600),
]


def fnv1a32(s):
    h = 0x811C9DC5
    for b in s.encode("utf-8"):
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def fmix32(h):
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    return h


def u(name, n):
    base = np.uint64(fnv1a32(name))
    i = np.arange(n, dtype=np.uint64)
    h = (base + i * np.uint64(0x9E3779B9)) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(16)
    return h.astype(np.float64) / 2.0**32


def fill(name, shape):
    n = int(np.prod(shape))
    a = math.sqrt(3.0 / np.prod(shape[1:])) if len(shape) >= 2 else 0.1
    return ((2 * u(name, n) - 1) * a).astype(np.float32).reshape(shape)


def formula_input(shape, scale=2.0):
    n = int(np.prod(shape))
    return ((2 * u("input", n) - 1) * scale).astype(np.float32).reshape(shape)


def param(name, shape, var_scale=1.0):
    v = fill(name, shape)
    if name.endswith(".weight") and len(shape) == 1:
        return (np.float64(1.0) + v.astype(np.float64)).astype(np.float32)
    if name.endswith(".running_var"):
        return (np.float64(var_scale) * (np.float64(1.0) + v.astype(np.float64))).astype(np.float32)
    return v


def calibrate(model, x):
    """Sets each BatchNorm's running_var from the variance of its input, in forward order."""
    scales = {}
    names = {m: n for n, m in model.named_modules()}

    def hook(bn, inputs):
        name = names[bn]
        s = float(inputs[0].double().var(unbiased=False))
        scales[name] = s
        key = f"{name}.running_var"
        bn.running_var.copy_(torch.from_numpy(param(key, list(bn.running_var.shape), s)))

    handles = [m.register_forward_pre_hook(hook) for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    model(x)
    for h in handles:
        h.remove()
    return scales


class SameConv(torch.nn.Module):
    """Wraps a Conv2d: pad like TensorFlow 'SAME' for the actual input size, then convolve."""

    def __init__(self, conv):
        super().__init__()
        self.conv = conv
        self.conv.padding = (0, 0)

    def forward(self, x):
        pads = []
        for i, size in enumerate(x.shape[-2:]):
            k, s, d = self.conv.kernel_size[i], self.conv.stride[i], self.conv.dilation[i]
            total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
            pads.append((total // 2, total - total // 2))
        x = F.pad(x, [pads[1][0], pads[1][1], pads[0][0], pads[0][1]])
        return self.conv(x)


def to_same(module):
    for name, child in module.named_children():
        if isinstance(child, torch.nn.Conv2d):
            setattr(module, name, SameConv(child))
        else:
            to_same(child)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    torch.set_grad_enabled(False)
    for family, variant, res in CASES:
        model = getattr(torchvision.models, f"efficientnet_{variant}")(weights=None).eval()
        sd = {k: torch.from_numpy(param(k, list(v.shape))) for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
        model.load_state_dict(sd, strict=False)
        if family == "tf":
            for m in model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.eps = 1e-3
            to_same(model)
        eps = next(m.eps for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
        x = torch.from_numpy(formula_input([1, 3, res, res])).double()
        model = model.double()
        scales = calibrate(model, x)
        # Every parameter holds a float32 value; the model is evaluated in float64 over them.
        logits = model.double()(x)[0].tolist()
        name = f"{family}-efficientnet_{variant}-{res}.json"
        with open(os.path.join(out_dir, name), "w") as f:
            json.dump({
                "family": family, "variant": variant, "resolution": res, "bn_eps": eps,
                "naming": "torchvision", "torch": torch.__version__, "torchvision": torchvision.__version__,
                "input": {"formula": "input", "shape": [1, 3, res, res], "scale": 2.0},
                "bn_var_scale": scales,
                "logits": [round(v, 9) for v in logits],
            }, f)
        print(name, "eps", eps, "logits[0:3]", [round(v, 5) for v in logits[:3]], flush=True)


if __name__ == "__main__":
    main()
