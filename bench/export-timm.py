#!/usr/bin/python3
"""
Exports timm's efficientnet_b0 with torch.onnx.export (opset 17) for the A/B benchmark
(bench/ab-timm.mjs). Needs PyTorch (Debian: apt-get install python3-torch) and timm's source
(pip install timm, or a checkout on PYTHONPATH). Weights are timm's random init: latency does not
depend on the values. The exported file is not part of the repository.

Usage: /usr/bin/python3 bench/export-timm.py OUT.onnx [--model efficientnet_b0] [--static-batch]
"""
import argparse

import timm
import torch

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--model", default="efficientnet_b0")
p.add_argument("--static-batch", action="store_true")
a = p.parse_args()

model = timm.create_model(a.model, pretrained=False).eval()
size = model.pretrained_cfg["input_size"][1:]
x = torch.randn(1, 3, *size)
dynamic = None if a.static_batch else {"input": {0: "N"}, "logits": {0: "N"}}
with torch.no_grad():
    torch.onnx.export(model, x, a.out, opset_version=17, input_names=["input"], output_names=["logits"], dynamic_axes=dynamic)
print(f"wrote {a.out}: timm {timm.__version__} {a.model}, torch {torch.__version__}, opset 17, input {list(x.shape)}")
