"""Imagenette check of an embedded-preprocessing file from Python onnxruntime (issue #20).

Reference data only, never run by the test suite (it needs /work/venv's onnxruntime).

  effnet export efficientnet-b0 --weights ../shared/imagenette/efficientnet_b0-imagenette.safetensors \
      --resolution 160 --embed-preprocessing -o b0-embedded.onnx
  effnet export efficientnet-b0 --weights ... --resolution 160 -o b0-plain.onnx
  effnet eval b0-plain.onnx --data ../shared/imagenette/val --predictions preds.json
  /work/venv/bin/python bench/embedded-preprocessing.py b0-embedded.onnx b0-plain.onnx preds.json
  /work/venv/bin/python bench/embedded-preprocessing.py b0-embedded.onnx b0-plain.onnx --latency-only

Every image of val/ is decoded to RGB by PIL (no resizing) and fed as uint8 [1,H,W,3]; the file
does the rest. Reports per-image top-1 agreement with effnet's PIL-exact path (`--predictions`),
top-1 against the labels and against reference.json, and the latency of the embedded steps on a
500x375 photo next to the plain B0's inference (alternating, same run, load average stated).
"""
import glob, json, os, sys, time

import numpy as np
import onnxruntime as ort
from PIL import Image

# --latency-only: skip the 3,925-image agreement pass (the latency part needs no predictions file).
latency_only = '--latency-only' in sys.argv
args = [a for a in sys.argv[1:] if a != '--latency-only']
embedded, plain = args[:2]
preds_path = None if latency_only else args[2]
root = os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'imagenette')
root = os.environ.get('IMAGENETTE', root if os.path.isdir(root) else '/work/shared/imagenette')
ref = json.load(open(os.path.join(root, 'reference.json')))
classes = ref['classes']
preds = json.load(open(preds_path)) if preds_path else {}

opts = ort.SessionOptions()
s = ort.InferenceSession(embedded, opts, providers=['CPUExecutionProvider'])
out_name = s.get_outputs()[0].name
files = sorted(glob.glob(os.path.join(root, 'val', '*', '*.JPEG')))
agree = correct = 0
if latency_only: files_scored = []
else: files_scored = files
disagree = []
for f in files_scored:
    key = '/'.join(f.split(os.sep)[-2:])
    img = np.asarray(Image.open(f).convert('RGB'))[None]
    y = s.run(None, {'image': img})[0]
    top1 = int(np.argmax(y[0]))
    ours = preds[key][0]
    agree += top1 == ours
    if top1 != ours: disagree.append(key)
    correct += top1 == classes.index(key.split('/')[0])
n = len(files_scored)
top1_ref = ref['reference']['160']['top1'] if '160' in ref['reference'] else None
if n: print(json.dumps({'images': n, 'agreement_with_effnet_pil_path': agree / n, 'disagreeing': disagree[:10], 'top1': correct / n, 'reference_top1': top1_ref}))

# Latency: the embedded file on a 500x375 photo vs the plain model on its 160x160 tensor.
photo = np.asarray(Image.open(files[0]).convert('RGB').resize((500, 375), Image.BICUBIC))[None]
for threads in [0, 1]:
    o = ort.SessionOptions()
    if threads: o.intra_op_num_threads = threads
    se = ort.InferenceSession(embedded, o, providers=['CPUExecutionProvider'])
    sp = ort.InferenceSession(plain, o, providers=['CPUExecutionProvider'])
    x = np.random.default_rng(0).standard_normal((1, 3, 160, 160)).astype(np.float32)
    pin = sp.get_inputs()[0].name
    for _ in range(20):
        se.run(None, {'image': photo}); sp.run(None, {pin: x})
    te, tp = [], []
    for _ in range(200):
        t = time.perf_counter(); se.run(None, {'image': photo}); te.append(time.perf_counter() - t)
        t = time.perf_counter(); sp.run(None, {pin: x}); tp.append(time.perf_counter() - t)
    me, mp = np.median(te) * 1e3, np.median(tp) * 1e3
    print(json.dumps({'threads': threads or 'default', 'embedded_ms': round(me, 3), 'plain_ms': round(mp, 3), 'embedded_steps_ms': round(me - mp, 3), 'cost_vs_b0': round((me - mp) / mp, 3), 'loadavg': os.getloadavg()}))
