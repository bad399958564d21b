#!/usr/bin/env bash
# Every latency the README quotes, measured in one go, each step logged with the load average before
# it. Run it on an idle machine (no other jobs, no test suite): the README's figures come from it.
#
#   npm run build && bash bench/readme-latencies.sh [OUT_DIR]      (about 15 min on 2 cores)
#
# Needs ../shared/imagenette, /work/venv (Python onnxruntime, Pillow) for the embedded-preprocessing
# step (skipped without it), Debian's chromium for the browser rows.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-readme-latencies}")
mkdir -p "$out"
E="node packages/cli/bin/effnet.js"
W=../shared/imagenette/efficientnet_b0-imagenette.safetensors
PY=${EFFNET_VENV_PYTHON:-/work/venv/bin/python}
log="$out/log.txt"
step() { echo "== $1  (load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M:%S))" | tee -a "$log"; }
run() { "$@" 2>&1 | tee -a "$log"; }

step "default bench (npx effnet bench: B0, B1, B4, ResNet-50), wall time"
start=$(date +%s.%N)
run $E bench --out "$out/default-bench"
echo "wall: $(echo "$(date +%s.%N) - $start" | bc) s" | tee -a "$log"

step "int8 vs float32, same run, alternating (README int8 table)"
run node bench/int8-speed.mjs --models resnet50,efficientnet-lite0,efficientnet-lite4,efficientnet-b0 --policies all --rounds 12 --runs 5
run node bench/int8-speed.mjs --models efficientnet-b4,efficientnetv2-s --policies all --rounds 6 --runs 2

step "int8 placements on B0 at 160 px"
run node bench/int8-speed.mjs --models efficientnet-b0 --resolution 160 --policies all,pointwise,compute --rounds 24 --runs 10

step "fp16 vs fp32 (Lite0), bench --precision"
run $E bench efficientnet-lite0 --precision fp32,fp16 --threads 2 --out "$out/precision"

step "Lite0 --opencv vs default (ReLU6 as Relu(x) - Relu(x - 6) vs Clip), same run, alternating"
$E export efficientnet-lite0 -o "$out/lite0.onnx" 2>>"$log"
$E export efficientnet-lite0 --opencv -o "$out/lite0-opencv.onnx" 2>>"$log"
run node bench/ab-timm.mjs "$out/lite0-opencv.onnx" --ours "$out/lite0.onnx" || true

step "embedded preprocessing on a 500x375 photo vs B0@160 inference (Python onnxruntime, alternating)"
if [ -x "$PY" ]; then
  $E export efficientnet-b0 --weights "$W" --resolution 160 --embed-preprocessing -o "$out/b0-embedded.onnx" 2>>"$log"
  $E export efficientnet-b0 --weights "$W" --resolution 160 -o "$out/b0-plain.onnx" 2>>"$log"
  run "$PY" bench/embedded-preprocessing.py "$out/b0-embedded.onnx" "$out/b0-plain.onnx" --latency-only
else
  echo "skipped: no $PY" | tee -a "$log"
fi

step "browser EPs (headless Chromium), B0 at 224"
run $E bench efficientnet-b0 --ep web-wasm --out "$out/web-wasm"
VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json run $E bench efficientnet-b0 --ep web-webgpu --iterations 3 --warmup 1 --time 0 --out "$out/web-webgpu"

step "done"
