#!/usr/bin/python3
"""Conformance checks of effnet's ONNX files with runtimes effnet did not write.

Usage: check.py JOB.json   (prints one JSON object on stdout)

JOB = {"outDir": dir, "models": [{"name", "path",
        "checker": bool,            # onnx.checker.check_model(full_check=True)
        "shapes": bool,             # strict shape inference vs the value_info effnet wrote
        "opencv": {"input": raw file, "dtype": "float32" (default) | "uint8", "shape": [...], "probes": [value names]} | absent}]}

For "opencv" the model is loaded with cv2.dnn.readNetFromONNX and run on the input. Intermediate
values named in "probes" are made graph outputs first (a copy, <outDir>/<name>.probe.onnx, so the
caller can run exactly the same graph elsewhere); every output is written to
<outDir>/<name>.<i>.bin as raw float32.

Needs Debian's python3-onnx, python3-opencv, python3-numpy (run with /usr/bin/python3).
"""
import json
import os
import sys
import traceback

import numpy as np
import onnx
from onnx import shape_inference


def versions():
    return {
        "onnx": onnx.__version__,
        "opencv": __import__("cv2").__version__,
        "numpy": np.__version__,
        # Newest opset / IR version this onnx release's checker and shape inference know.
        "maxOpset": onnx.defs.onnx_opset_version(),
        "maxIrVersion": onnx.IR_VERSION,
        # (release, ir_version, ai.onnx opset, ...) as onnx.helper publishes it.
        "versionTable": [list(row[:3]) for row in onnx.helper.VERSION_TABLE],
    }


def default_opset(model):
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            return o.version
    return 0


def too_new(model):
    opset = default_opset(model)
    if model.ir_version > onnx.IR_VERSION or opset > onnx.defs.onnx_opset_version():
        return (f"onnx {onnx.__version__} knows IR version <= {onnx.IR_VERSION} and opset <= "
                f"{onnx.defs.onnx_opset_version()}; this model is IR {model.ir_version}, opset {opset}")
    return None


def error(e):
    return str(e).strip().splitlines()[0][:500] if str(e).strip() else type(e).__name__


def dims(v):
    out = []
    for d in v.type.tensor_type.shape.dim:
        if d.HasField("dim_value"):
            out.append(d.dim_value)
        elif d.HasField("dim_param"):
            out.append(d.dim_param)
        else:
            out.append(None)
    return out


def check_shapes(model):
    """Strip effnet's value_info, let ONNX infer every intermediate strictly, compare."""
    ours = {v.name: v for v in model.graph.value_info}
    stripped = onnx.ModelProto()
    stripped.CopyFrom(model)
    del stripped.graph.value_info[:]
    inferred = shape_inference.infer_shapes(stripped, check_type=True, strict_mode=True, data_prop=True)
    theirs = {v.name: v for v in inferred.graph.value_info}
    mismatches, missing = [], []
    for name, v in ours.items():
        t = theirs.get(name)
        if t is None:
            missing.append(name)
            continue
        a, b = dims(t), dims(v)
        if a != b or t.type.tensor_type.elem_type != v.type.tensor_type.elem_type:
            mismatches.append({"name": name, "onnx": [a, t.type.tensor_type.elem_type], "effnet": [b, v.type.tensor_type.elem_type]})
    # Graph outputs as declared must agree with inference too.
    out_inferred = {o.name: dims(o) for o in inferred.graph.output}
    for o in model.graph.output:
        if out_inferred.get(o.name) != dims(o):
            mismatches.append({"name": o.name, "onnx": out_inferred.get(o.name), "effnet": dims(o)})
    return {"compared": len(ours) - len(missing), "values": len(ours), "missing": missing[:20], "mismatches": mismatches[:20]}


def run_opencv(spec, model, out_dir):
    import cv2

    probe_path = os.path.join(out_dir, spec["name"] + ".probe.onnx")
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    infos = {v.name: v for v in probe.graph.value_info}
    for name in spec["opencv"].get("probes", []):
        if name not in infos:
            raise KeyError(f"probe '{name}' has no value_info in {spec['path']}")
        probe.graph.output.append(infos[name])
    onnx.save(probe, probe_path)
    net = cv2.dnn.readNetFromONNX(probe_path)
    x = np.fromfile(spec["opencv"]["input"], dtype=spec["opencv"].get("dtype", "float32")).reshape(spec["opencv"]["shape"])
    net.setInput(x)
    names = [o.name for o in probe.graph.output]
    outs = net.forward(names)
    files = []
    for i, (name, y) in enumerate(zip(names, outs)):
        path = os.path.join(out_dir, f"{spec['name']}.{i}.bin")
        np.ascontiguousarray(y, dtype=np.float32).tofile(path)
        files.append({"name": name, "path": path, "shape": list(y.shape)})
    return {"probeModel": probe_path, "outputs": files}


def cv_reason(e):
    """OpenCV's multi-line importer error as one line: the node's op and the failed check."""
    import re
    msg = str(e)
    node = re.search(r"Node \[(\w+)@[^\]]*\]", msg)
    expected = re.search(r"\(expected: '([^']*)'\)", msg)
    errors = re.findall(r"error: \([^)]*\) (.*?)(?: in function|$)", msg, re.M)
    detail = expected.group(1) if expected else (errors[-1].strip() if errors else error(e))
    return f"{node.group(1)}: {detail}" if node else detail


def check_model(spec, out_dir):
    res = {"name": spec["name"], "path": spec["path"]}
    model = onnx.load(spec["path"])
    res["irVersion"] = model.ir_version
    res["opset"] = default_opset(model)
    skip = too_new(model)
    for key, fn in (("checker", lambda: onnx.checker.check_model(model, full_check=True) or {"ok": True}),
                    ("shapes", lambda: check_shapes(model))):
        if not spec.get(key):
            continue
        if skip:
            res[key] = {"skipped": skip}
            continue
        try:
            res[key] = fn()
        except Exception as e:  # report, never crash: the caller asserts
            res[key] = {"ok": False, "error": error(e)}
    if spec.get("opencv"):
        try:
            res["opencv"] = run_opencv(spec, model, out_dir)
        except Exception as e:
            res["opencv"] = {"error": cv_reason(e)}
    return res


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        job = json.load(f)
    out = {"versions": versions(), "models": []}
    for spec in job.get("models", []):
        try:
            out["models"].append(check_model(spec, job["outDir"]))
        except Exception as e:
            out["models"].append({"name": spec.get("name"), "error": error(e), "trace": traceback.format_exc()[-2000:]})
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
