"""lut (Sigmoid, Tanh, ELU, SELU, GELU, SiLU, Softplus, Hardsigmoid, Hardswish, Mish): a
lookup table in y's format over x's raw values, attrs lo (x raw units), shift s, above:

    x <  lo                 y = table[0]
    lo <= x < hi            y = table[(x - lo) >> s]          hi = lo + (T << s)
    x >= hi                 y = table[T-1] (above "clamp")  or  y = x (above "identity", Fx == Fy)

The exporter fills table[i] with f at the centre of the x values of bin i,
``(lo + i * 2^s + (2^s - 1) / 2) / 2^Fx``, computed by the ATen op itself in float64, and
picks the smallest s that keeps T <= MAX_TABLE. Error bound: max|f'| * (2^s - 1) / 2 * LSB_x
+ LSB_y / 2 inside [lo, hi), and |f(x) - f(edge)| outside (docs/numerics.md).
"""

from __future__ import annotations

import numpy as np

from numerics import Format, NumericsError, check_range
from ops.common import attr, inputs_of

MAX_TABLE = 4096

#: aten op -> (lo, hi (None: the top of x's range), above), in float units of x
FUNCTIONS = {
    "aten::sigmoid": (-16.0, 16.0, "clamp"),
    "aten::tanh": (-8.0, 8.0, "clamp"),
    "aten::elu": (-16.0, 0.0, "identity"),
    "aten::selu": (-16.0, None, "clamp"),
    "aten::gelu": (-16.0, 16.0, "identity"),
    "aten::silu": (-16.0, 16.0, "identity"),
    "aten::mish": (-16.0, 16.0, "identity"),
    "aten::softplus": (-16.0, 20.0, "identity"),
    "aten::hardsigmoid": (-3.0, 3.0, "clamp"),
    "aten::hardswish": (-3.0, 3.0, "identity"),
}


def lut(x, table, fx: Format, fy: Format, lo: int, shift: int, above: str) -> np.ndarray:
    x = check_range(x, fx, "lut input")
    table = check_range(table, fy, "lut table")
    for name, v in (("lo", lo), ("shift", shift)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise NumericsError(f"lut {name} {v!r} is not an integer")
    if table.ndim != 1 or table.size == 0 or shift < 0:
        raise NumericsError(f"lut needs a non-empty 1-D table and shift >= 0, got table shape "
                            f"{list(table.shape)}, shift {shift}")
    if above not in ("clamp", "identity"):
        raise NumericsError(f"lut above must be 'clamp' or 'identity', got {above!r}")
    if above == "identity" and fx != fy:
        raise NumericsError(f"lut with identity above requires identical formats, got "
                            f"{fx} -> {fy}")
    t = table.size
    idx = np.clip((x - lo) >> np.int64(shift), 0, t - 1)  # x < lo: index 0; x >= hi: T-1
    y = table[idx]
    if above == "identity":
        y = np.where(x >= lo + (t << shift), x, y)
    return y


def evaluate(node, values, formats):
    x, table = inputs_of(node, (2,))
    return lut(values[x], values[table], formats[x], formats[node["outputs"][0]],
               attr(node, "lo"), attr(node, "shift"), attr(node, "above"))


def table_bins(lo_raw: int, length: int):
    """(shift, T): the smallest shift whose bins of 2^shift raw values cover ``length`` values
    in at most MAX_TABLE entries."""
    s = 0
    while -(-length // (1 << s)) > MAX_TABLE:
        s += 1
    return s, -(-length // (1 << s))


def bin_centres(lo_raw: int, s: int, t: int, fx: Format) -> np.ndarray:
    """The float value at the centre of each bin's raw values."""
    i = np.arange(t, dtype=np.float64)
    return (lo_raw + i * (1 << s) + ((1 << s) - 1) / 2.0) / float(1 << fx.frac)


def convert(cv, node):
    name = node.target._schema.name.rstrip("_")
    lo_f, hi_f, above = FUNCTIONS[name]
    if name == "aten::elu" and (len(node.args) > 2 and node.args[2] != 1
                                                    or node.kwargs.get("scale", 1) != 1):
        above, hi_f = "clamp", None  # scale != 1: not the identity above 0
    x = cv.tensor_arg(node.args[0], "input")
    table = cv.new_weight(f"{node.name}.table", None)
    out = cv.emit(node, "lut", [x, table], {"lo": 0, "shift": 0, "above": above})
    if above == "identity":
        cv.tie(x, node.name)
    cv.format_rule(lambda formats: formats.__setitem__(table, formats[node.name]))

    def fill(formats):
        fx = formats[x]
        lo_raw = max(fx.min_int, int(lo_f * (1 << fx.frac)))
        hi_raw = fx.max_int + 1 if hi_f is None else min(fx.max_int + 1,
                                                         int(hi_f * (1 << fx.frac)))
        s, t = table_bins(lo_raw, max(1, hi_raw - lo_raw))
        cv.set_weight(table, cv.call_aten(node, bin_centres(lo_raw, s, t, fx)))
        out["attrs"] = {"lo": lo_raw, "shift": s, "above": above}
    cv.after_formats(fill)


def error_bound(f_prime_max: float, shift: int, fx: Format, fy: Format) -> float:
    """The documented bound inside [lo, hi): max|f'| * (2^s - 1)/2 * LSB_x + LSB_y / 2."""
    return f_prime_max * ((1 << shift) - 1) / 2.0 * fx.lsb + fy.lsb / 2.0


REFERENCES = {"lut": evaluate}
MATCHERS = {**{op: convert for op in FUNCTIONS},
            **{op + "_": convert for op in ("aten::sigmoid", "aten::tanh", "aten::elu",
                                            "aten::selu", "aten::silu", "aten::mish",
                                            "aten::hardsigmoid", "aten::hardswish")}}
