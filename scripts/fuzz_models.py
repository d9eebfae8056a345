#!/usr/bin/env python3
"""Random model specs -> standalone model files and exported bundles, for `mlcalyx fuzz`.

Usage: python scripts/fuzz_models.py --serve

Torch is imported once; `mlcalyx fuzz` keeps one such process per worker and sends it one JSON
request per line on stdin:

    {"spec": SPEC, "dir": DIR}

It writes DIR/model.py (a standalone reproducer defining build(), with the spec's fixed-point
format as MLCALYX_FORMAT) and exports it into DIR/bundle with export.py's own export_model, then
answers one JSON line on stdout:

    {"ok": true} | {"ok": false, "kind": "rejected" | "internal", "error": MESSAGE}

"rejected" is a user-facing ExportError (e.g. an accumulator that could overflow); "internal"
is anything else. SPEC is the Rust `ModelSpec` (harness/src/fuzz/spec.rs):

    {"name": str, "seed": int, "format": {"width": W, "frac": F},
     "input_shape": [1, ..., K], "input_scale": float, "weight_scale": float,
     "layers": [{"op": "linear", "out": N, "bias": bool} | {"op": "relu"} | {"op": "add_self"}
                | {"op": "residual", "bias": bool, "relu": bool} | {"op": "flatten"}
                | {"op": "reshape", "shape": [1, ...]}]}
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from typing import List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export  # noqa: E402


def _shape_after(shape: List[int], layer: dict) -> List[int]:
    op = layer["op"]
    if op == "linear":
        return shape[:-1] + [layer["out"]]
    if op == "flatten":
        n = 1
        for d in shape[1:]:
            n *= d
        return [shape[0], n]
    if op == "reshape":
        return list(layer["shape"])
    return shape


def model_source(spec: dict) -> str:
    """A standalone model file for `spec`: explicit nn.Module code, readable as a bug report."""
    shape = list(spec["input_shape"])
    init, body = [], []
    for i, layer in enumerate(spec["layers"]):
        op = layer["op"]
        features = shape[-1]
        if op == "linear":
            init.append(f"self.fc{i} = nn.Linear({features}, {layer['out']}, "
                        f"bias={layer['bias']})")
            body.append(f"x = self.fc{i}(x)")
        elif op == "relu":
            body.append("x = torch.relu(x)")
        elif op == "add_self":
            body.append("x = x + x")
        elif op == "residual":
            init.append(f"self.fc{i} = nn.Linear({features}, {features}, bias={layer['bias']})")
            inner = f"self.fc{i}(x)"
            if layer["relu"]:
                inner = f"torch.relu({inner})"
            body.append(f"x = x + {inner}")
        elif op == "flatten":
            body.append("x = torch.flatten(x, 1)")
        elif op == "reshape":
            body.append(f"x = x.reshape({', '.join(str(d) for d in layer['shape'])})")
        else:
            raise ValueError(f"unknown op {op!r} in spec {spec['name']}")
        shape = _shape_after(shape, layer)
    init = init or ["pass"]
    fmt = spec["format"]
    lines = [
        f'"""mlcalyx fuzz model {spec["name"]}: {len(spec["layers"])} layers, input '
        f'{spec["input_shape"]}, format Q{fmt["width"] - fmt["frac"]}.{fmt["frac"]}."""',
        "import torch",
        "import torch.nn as nn",
        "",
        f"MLCALYX_FORMAT = {{\"width\": {fmt['width']}, \"frac\": {fmt['frac']}}}",
        f"SEED = {spec['seed']}",
        f"INPUT_SCALE = {float(spec['input_scale'])!r}",
        f"WEIGHT_SCALE = {float(spec['weight_scale'])!r}",
        "",
        "",
        "class Model(nn.Module):",
        "    def __init__(self):",
        "        super().__init__()",
        *[f"        {line}" for line in init],
        "",
        "    def forward(self, x):",
        *[f"        {line}" for line in body],
        "        return x",
        "",
        "",
        "def build():",
        "    torch.manual_seed(SEED)",
        "    model = Model().eval()",
        "    with torch.no_grad():",
        "        for p in model.parameters():",
        "            p.mul_(WEIGHT_SCALE)",
        f"    x = (torch.rand({', '.join(str(d) for d in spec['input_shape'])}) * 2 - 1) "
        f"* INPUT_SCALE",
        "    return model, (x,)",
        "",
    ]
    return "\n".join(lines)


def handle(request: dict) -> dict:
    spec, folder = request["spec"], request["dir"]
    os.makedirs(folder, exist_ok=True)
    model_py = os.path.join(folder, "model.py")
    with open(model_py, "w", encoding="utf-8", newline="\n") as f:
        f.write(model_source(spec))
    try:
        export.export_model(model_py, os.path.join(folder, "bundle"))
    except export.ExportError as e:
        return {"ok": False, "kind": "rejected", "error": str(e)}
    return {"ok": True}


def serve() -> int:
    answers = sys.stdout
    # Anything a model or torch prints must not corrupt the answer stream.
    with contextlib.redirect_stdout(sys.stderr):
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                answer = handle(json.loads(line))
            except Exception as e:  # one bad spec is an answer, not the end of the server
                traceback.print_exc(file=sys.stderr)
                answer = {"ok": False, "kind": "internal", "error": export._describe_exc(e)}
            answers.write(json.dumps(answer) + "\n")
            answers.flush()
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["--serve"]:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        sys.exit(2)
    sys.exit(serve())
