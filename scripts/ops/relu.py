"""relu: y = max(x, 0), formats identical."""

from __future__ import annotations

import numpy as np

from numerics import Format, check_range
from ops.common import inputs_of, same_formats


def relu(x, fmt: Format) -> np.ndarray:
    return np.maximum(check_range(x, fmt, "relu input"), 0)


def evaluate(node, values, formats):
    (x,) = inputs_of(node, (1,))
    same_formats("relu", formats[x], formats[node["outputs"][0]])
    return relu(values[x], formats[x])


def convert(cv, node):
    x = cv.tensor_arg(node.args[0], "input")
    cv.emit(node, "relu", [x])
    cv.tie(x, node.name)


REFERENCES = {"relu": evaluate}
MATCHERS = {"aten::relu": convert, "aten::relu_": convert}
