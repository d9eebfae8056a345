"""linear: y[..., n] = requant(sum_k x[..., k] * w[n, k] + (b[n] << (Fx+Fw-Fb)))."""

from __future__ import annotations

from typing import Optional

import numpy as np

from numerics import Format, NumericsError, check_linear_formats, check_range, saturate, shift_round
from ops.common import inputs_of, mac_limits


def linear(x, w, b, fx: Format, fw: Format, fb: Optional[Format], fy: Format) -> np.ndarray:
    """``x`` has shape [..., K], ``w`` [N, K], ``b`` [N] or None. Returns int64 with shape
    [..., N] in format ``fy``."""
    x = check_range(x, fx, "linear input")
    w = check_range(w, fw, "linear weight")
    if w.ndim != 2:
        raise NumericsError(f"linear weight must be 2-D [N, K], got shape {list(w.shape)}")
    if x.ndim < 1 or x.shape[-1] != w.shape[1]:
        raise NumericsError(
            f"linear input shape {list(x.shape)} does not match weight shape {list(w.shape)}")
    if b is not None:
        if fb is None:
            raise NumericsError("linear bias given without a format")
        b = check_range(b, fb, "linear bias")
        if b.shape != (w.shape[0],):
            raise NumericsError(
                f"linear bias shape {list(b.shape)} does not match weight shape {list(w.shape)}")
    else:
        fb = None
    k = int(w.shape[1])
    check_linear_formats(k, fx, fw, fb, fy)
    acc = np.matmul(x, w.T)  # exact: int64, |acc| < 2**47 checked above
    if b is not None:
        acc = acc + (b << np.int64(fx.frac + fw.frac - fb.frac))
    r = shift_round(acc, fx.frac + fw.frac - fy.frac)
    return saturate(r, fy)


def evaluate(node, values, formats):
    ins = inputs_of(node, (2, 3))
    b = values[ins[2]] if len(ins) == 3 else None
    fb = formats[ins[2]] if len(ins) == 3 else None
    return linear(values[ins[0]], values[ins[1]], b, formats[ins[0]], formats[ins[1]], fb,
                  formats[node["outputs"][0]])


def convert(cv, node):
    x = cv.tensor_arg(node.args[0], "input")
    ins = [x, cv.weight_arg(node.args[1], "weight", "linear weights")]
    bias = node.args[2] if len(node.args) > 2 else node.kwargs.get("bias")
    if bias is not None:
        ins.append(cv.weight_arg(bias, "bias", "linear biases"))
    cv.emit(node, "linear", ins)


REFERENCES = {"linear": evaluate}
LIMITS = {"linear": mac_limits}
MATCHERS = {"aten::linear": convert}
