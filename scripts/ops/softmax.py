"""softmax (only as a model output): inputs [x, exp_table], attrs axis, lo, shift.

    m   = max_j x_j;  d_j = x_j - m  (<= 0)
    e_j = exp_table[(d_j - lo) >> s]  if d_j >= lo else 0      (exp_table in EXP_FORMAT)
    S   = sum_j e_j
    y_j = saturate_y((e_j * 2^Fy + S // 2) // S)

The exporter fills exp_table[i] = quantize(exp(min(c_i, 0))), c_i the centre of bin i's raw
values, with lo = -(T-1) * 2^s so that d = 0 starts the last bin (e = 1 exactly for the max).
"""

from __future__ import annotations

import numpy as np

from numerics import Format, NumericsError, check_range, saturate
from ops.common import Unsupported, arg, attr, inputs_of
from ops.lut import MAX_TABLE, bin_centres

#: the exp table's format: e in [0, 1] with 14 fractional bits
EXP_FORMAT = Format(True, 16, 14)
#: d below this (in float units) gives e = 0: exp(-16) is far below EXP_FORMAT's LSB
EXP_LO = -16.0


def softmax(x, table, fx: Format, fe: Format, fy: Format, axis: int, lo: int,
            shift: int) -> np.ndarray:
    x = check_range(x, fx, "softmax input")
    table = check_range(table, fe, "softmax exp table")
    if isinstance(axis, bool) or not isinstance(axis, int) or not 0 <= axis < x.ndim:
        raise NumericsError(f"softmax axis {axis!r} is not a dim of shape {list(x.shape)}")
    if table.ndim != 1 or table.size == 0 or shift < 0 or lo > 0:
        raise NumericsError("softmax needs a non-empty 1-D exp table, shift >= 0 and lo <= 0")
    d = x - x.max(axis=axis, keepdims=True)
    idx = np.clip((d - lo) >> np.int64(shift), 0, table.size - 1)
    e = np.where(d >= lo, table[idx], 0)
    s = e.sum(axis=axis, keepdims=True)
    if (s <= 0).any():
        raise NumericsError("softmax exp table gives a zero sum (exp_table at d = 0 must be "
                            "positive)")
    return saturate((e * np.int64(1 << fy.frac) + s // 2) // s, fy)


def evaluate(node, values, formats):
    x, table = inputs_of(node, (2,))
    return softmax(values[x], values[table], formats[x], formats[table],
                   formats[node["outputs"][0]], attr(node, "axis"), attr(node, "lo"),
                   attr(node, "shift"))


def exp_bins(fx: Format):
    """(lo, shift, T) covering d in [EXP_LO, 0] (or the whole range of differences)."""
    span = min(int(-EXP_LO * (1 << fx.frac)), (1 << fx.width) - 1)
    s = 0
    while -(-span // (1 << s)) + 1 > MAX_TABLE:
        s += 1
    t = -(-span // (1 << s)) + 1
    return -(t - 1) * (1 << s), s, t


def convert(cv, node):
    x = cv.tensor_arg(node.args[0], "input")
    if arg(node, 2, "dtype") not in (None, False):
        raise Unsupported("softmax with a dtype")
    if any(u.op != "output" for u in node.users):
        raise Unsupported("softmax is supported only as a model output (its result feeds "
                          "another operation)")
    rank = len(cv.shape[x])
    axis = int(node.args[1]) % rank
    table = cv.new_weight(f"{node.name}.exp_table", None, fmt=EXP_FORMAT)
    out = cv.emit(node, "softmax", [x, table], {"axis": axis, "lo": 0, "shift": 0})

    def fill(formats):
        lo, s, t = exp_bins(formats[x])
        c = np.minimum(bin_centres(lo, s, t, formats[x]), 0.0)
        cv.set_weight(table, np.exp(c))
        out["attrs"] = {"axis": axis, "lo": lo, "shift": s}
    cv.after_formats(fill)


REFERENCES = {"softmax": evaluate}
MATCHERS = {"aten::softmax": convert, "aten::_softmax": convert}
