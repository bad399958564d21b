"""The Python onnxruntime column of the README's conformance table (reference data, not a test).

Python onnxruntime is not installed in CI, so the table test (packages/bench/src/conformance.test.ts)
shows what this script recorded. To refresh it:

  mkdir -p /tmp/conf && EFFNET_KEEP_CONFORMANCE=/tmp/conf npx vitest run packages/bench/src/conformance.test.ts -t "conformance table"
  /work/venv/bin/python bench/conformance-python.py /tmp/conf > packages/bench/conformance/python-onnxruntime.json
  EFFNET_UPDATE_README=1 npx vitest run packages/bench/src/conformance.test.ts -t "conformance table"

Each variant's file is run on the same input as the test feeds onnxruntime-node and compared with
effnet's own result for it (the test's reference outputs), max |Δ| over every output.
"""
import json, math, os, sys

import numpy as np
import onnxruntime as ort

keep = sys.argv[1]
cells = {}
for v in json.load(open(os.path.join(keep, 'manifest.json'))):
    try:
        s = ort.InferenceSession(v['model'], providers=['CPUExecutionProvider'])
        x = np.fromfile(v['input'], dtype=v['dtype']).reshape(v['shape'])
        y = dict(zip([o.name for o in s.get_outputs()], s.run(None, {s.get_inputs()[0].name: x})))
        ref = json.load(open(v['reference']))
        d = max(float(np.abs(np.asarray(y[k], np.float32).ravel() - np.asarray(r, np.float32)).max()) for k, r in ref.items())
        # As the table test writes it: the power of ten above max |Δ|.
        cells[v['name']] = '✓ ' + ('0' if d == 0 else f'≤ 1e{math.ceil(math.log10(d))}')
    except Exception as e:  # recorded as the runtime said it
        cells[v['name']] = '✗ ' + str(e).splitlines()[0][:80]
json.dump({'onnxruntime': ort.__version__, 'cells': cells}, sys.stdout, ensure_ascii=False, indent=1)
print()
