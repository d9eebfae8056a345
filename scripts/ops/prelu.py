"""prelu (PReLU, LeakyReLU): y = x >= 0 ? x : saturate_y(round_{Fa}(x * slope[c])); x and y
share a format, the slope has its own (frac Fa). The slope is [C] along attrs.axis, or [1]
(axis null). LeakyReLU's slope is a [1] weight the exporter creates, named <node>.slope."""

from __future__ import annotations

import numpy as np

from numerics import Format, NumericsError, check_range, saturate, shift_round
from ops.common import Unsupported, arg, inputs_of, same_formats


def prelu(x, slope, fx: Format, fa: Format, axis) -> np.ndarray:
    x = check_range(x, fx, "prelu input")
    slope = check_range(slope, fa, "prelu slope")
    if axis is None:
        if slope.shape != (1,):
            raise NumericsError(f"prelu without an axis needs a [1] slope, got "
                                f"{list(slope.shape)}")
        s = slope.reshape([1] * x.ndim)
    else:
        if isinstance(axis, bool) or not isinstance(axis, int) or not 0 <= axis < x.ndim:
            raise NumericsError(f"prelu axis {axis!r} is not a dim of shape {list(x.shape)}")
        if slope.shape != (x.shape[axis],):
            raise NumericsError(f"prelu slope shape {list(slope.shape)} does not match "
                                f"{x.shape[axis]} channels")
        shape = [1] * x.ndim
        shape[axis] = x.shape[axis]
        s = slope.reshape(shape)
    neg = saturate(shift_round(x * s, fa.frac), fx)
    return np.where(x >= 0, x, neg)


def evaluate(node, values, formats):
    x, a = inputs_of(node, (2,))
    same_formats("prelu", formats[x], formats[node["outputs"][0]])
    axis = (node.get("attrs") or {}).get("axis")
    return prelu(values[x], values[a], formats[x], formats[a], axis)


def convert_prelu(cv, node):
    x = cv.tensor_arg(node.args[0], "input")
    a = cv.weight_arg(node.args[1], "weight", "PReLU slopes")
    rank, n = len(cv.shape[x]), int(np.prod(cv.shape[a]))
    if n == 1:
        axis = None
        if cv.shape[a] != [1]:
            raise Unsupported(f"slope of shape {cv.shape[a]}")
    else:
        axis = 1 if rank >= 2 else 0
        if cv.shape[a] != [cv.shape[x][axis]]:
            raise Unsupported(f"slope of shape {cv.shape[a]} for input {cv.shape[x]}")
    cv.emit(node, "prelu", [x, a], {"axis": axis})
    cv.tie(x, node.name)


def convert_leaky_relu(cv, node):
    x = cv.tensor_arg(node.args[0], "input")
    s = arg(node, 1, "negative_slope", 0.01)
    if not isinstance(s, (int, float)):
        raise Unsupported(f"negative_slope {s!r}")
    slope = cv.new_weight(f"{node.name}.slope", np.array([float(s)]), own_format=True)
    cv.emit(node, "prelu", [x, slope], {"axis": None})
    cv.tie(x, node.name)


REFERENCES = {"prelu": evaluate}
MATCHERS = {"aten::prelu": convert_prelu, "aten::_prelu_kernel": convert_prelu,
            "aten::leaky_relu": convert_leaky_relu, "aten::leaky_relu_": convert_leaky_relu}
