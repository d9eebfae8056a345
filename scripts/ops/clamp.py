"""clamp (ReLU6, Hardtanh, clamp): y = min(max(x, min), max), bounds in x's raw units (null:
no bound), formats identical. The exporter rounds a float bound as it quantizes values."""

from __future__ import annotations

import math

import numpy as np

from numerics import Format, NumericsError, check_range, quantize
from ops.common import Unsupported, arg, inputs_of, same_formats


def _bound(v):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise NumericsError(f"clamp bound {v!r} is not an integer")
    return v


def clamp(x, fmt: Format, lo, hi) -> np.ndarray:
    x = check_range(x, fmt, "clamp input")
    lo, hi = _bound(lo), _bound(hi)
    if lo is not None:
        x = np.maximum(x, lo)
    if hi is not None:
        x = np.minimum(x, hi)
    return x


def evaluate(node, values, formats):
    (x,) = inputs_of(node, (1,))
    same_formats("clamp", formats[x], formats[node["outputs"][0]])
    attrs = node.get("attrs") or {}
    return clamp(values[x], formats[x], attrs.get("min"), attrs.get("max"))


def raw(value, fmt: Format):
    """A float bound in fmt's raw units (None and infinities: no bound)."""
    if value is None or math.isinf(float(value)):
        return None
    return int(quantize(float(value), fmt))


def emit_clamp(cv, node, lo, hi) -> None:
    x = cv.tensor_arg(node.args[0], "input")
    for name, v in (("min", lo), ("max", hi)):
        if v is not None and not isinstance(v, (int, float)):
            raise Unsupported(f"{name} bound {v!r} is not a number (tensor bounds are not "
                              f"supported)")
    if lo is not None and hi is not None and lo > hi:
        raise Unsupported(f"min {lo} > max {hi}")
    out = cv.emit(node, "clamp", [x], {"min": None, "max": None})
    cv.tie(x, node.name)

    def fill(formats):
        out["attrs"] = {"min": raw(lo, formats[x]), "max": raw(hi, formats[x])}
    cv.after_formats(fill)


def convert_hardtanh(cv, node):
    emit_clamp(cv, node, arg(node, 1, "min_val", -1.0), arg(node, 2, "max_val", 1.0))


def convert_relu6(cv, node):
    emit_clamp(cv, node, 0.0, 6.0)


def convert_clamp(cv, node):
    if node.target._overloadname not in ("default", ""):
        raise Unsupported(f"overload {node.target._overloadname} (tensor bounds)")
    name = node.target._schema.name
    if name.startswith("aten::clamp_min"):
        return emit_clamp(cv, node, node.args[1], None)
    if name.startswith("aten::clamp_max"):
        return emit_clamp(cv, node, None, node.args[1])
    emit_clamp(cv, node, arg(node, 1, "min"), arg(node, 2, "max"))


REFERENCES = {"clamp": evaluate}
MATCHERS = {
    "aten::hardtanh": convert_hardtanh, "aten::hardtanh_": convert_hardtanh,
    "aten::relu6": convert_relu6, "aten::relu6_": convert_relu6,
    "aten::clamp": convert_clamp, "aten::clamp_": convert_clamp,
    "aten::clamp_min": convert_clamp, "aten::clamp_max": convert_clamp,
}
