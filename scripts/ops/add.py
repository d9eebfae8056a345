"""add: y = saturate(a + b), same shapes, identical formats."""

from __future__ import annotations

import numpy as np

from numerics import Format, NumericsError, check_range, saturate
from ops.common import Unsupported, arg, inputs_of


def add(a, b, fa: Format, fb: Format, fy: Format) -> np.ndarray:
    if not (fa == fb == fy):
        raise NumericsError(
            f"add requires identical input and output formats, got {fa} + {fb} -> {fy}")
    a = check_range(a, fa, "add input")
    b = check_range(b, fb, "add input")
    if a.shape != b.shape:
        raise NumericsError(f"add shapes differ: {list(a.shape)} vs {list(b.shape)}")
    return saturate(a + b, fy)


def evaluate(node, values, formats):
    a, b = inputs_of(node, (2,))
    return add(values[a], values[b], formats[a], formats[b], formats[node["outputs"][0]])


def convert(cv, node):
    if node.target._overloadname != "Tensor":
        raise Unsupported(f"overload {node.target._overloadname}")
    alpha = arg(node, 2, "alpha", 1)
    if alpha != 1:
        raise Unsupported(f"add with alpha={alpha} (only alpha=1 is supported)")
    if not cv.is_node(node.args[1]):
        raise Unsupported(f"add with a scalar operand ({node.args[1]!r}); both operands "
                          f"must be tensors of identical shape")
    a = cv.tensor_arg(node.args[0], "first operand")
    b = cv.tensor_arg(node.args[1], "second operand")
    if cv.shape[a] != cv.shape[b]:
        raise Unsupported(f"add of shapes {cv.shape[a]} and {cv.shape[b]} "
                          f"(broadcasting is not supported)")
    cv.emit(node, "add", [a, b])
    cv.tie(a, b, node.name)


REFERENCES = {"add": evaluate}
MATCHERS = {"aten::add": convert, "aten::add_": convert}
