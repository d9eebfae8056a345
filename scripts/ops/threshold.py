"""threshold (nn.Threshold): y = x > threshold ? x : value, both in x's raw units; formats
identical. The raw threshold is floor(t * 2^F), so the comparison is exact for every x."""

from __future__ import annotations

import math

import numpy as np

from numerics import Format, NumericsError, check_range, quantize
from ops.common import Unsupported, attr, inputs_of, same_formats


def threshold(x, fmt: Format, t: int, value: int) -> np.ndarray:
    x = check_range(x, fmt, "threshold input")
    for name, v in (("threshold", t), ("value", value)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise NumericsError(f"threshold {name} {v!r} is not an integer")
    check_range(np.array([value]), fmt, "threshold value")
    return np.where(x > t, x, np.int64(value))


def evaluate(node, values, formats):
    (x,) = inputs_of(node, (1,))
    same_formats("threshold", formats[x], formats[node["outputs"][0]])
    return threshold(values[x], formats[x], attr(node, "threshold"), attr(node, "value"))


def raw_threshold(t: float, fmt: Format) -> int:
    """floor(t * 2^F), kept within the format's range (x > min - 1 is every x)."""
    v = math.floor(float(t) * (1 << fmt.frac)) if math.isfinite(t) else (
        fmt.max_int if t > 0 else fmt.min_int)
    return max(fmt.min_int, min(fmt.max_int, v))


def convert(cv, node):
    x = cv.tensor_arg(node.args[0], "input")
    t, value = node.args[1], node.args[2]
    if not all(isinstance(v, (int, float)) for v in (t, value)):
        raise Unsupported("non-numeric threshold or value")
    if not math.isfinite(float(value)):
        raise Unsupported(f"value={value}")
    out = cv.emit(node, "threshold", [x], {"threshold": 0, "value": 0})
    cv.tie(x, node.name)

    def fill(formats):
        f = formats[x]
        out["attrs"] = {"threshold": raw_threshold(float(t), f),
                        "value": int(quantize(float(value), f))}
    cv.after_formats(fill)


REFERENCES = {"threshold": evaluate}
MATCHERS = {"aten::threshold": convert, "aten::threshold_": convert}
