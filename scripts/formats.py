"""Choosing every tensor's fixed-point format: the model's default, the formats of tensors the
exporter creates, and (``--calibrate``) the fewest integer bits that hold the float values seen."""

from __future__ import annotations

from typing import Dict

import numpy as np

from numerics import Format


def fit_format(values: np.ndarray, width: int) -> Format:
    """The format of ``width`` bits with the most fractional bits (at most width - 1) in which
    no value saturates when quantized; frac 0 when even that saturates."""
    v = np.asarray(values, dtype=np.float64)
    lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 0.0)
    for frac in range(width - 1, 0, -1):
        scale = float(1 << frac)
        if (np.floor(hi * scale + 0.5) <= (1 << (width - 1)) - 1
                and np.floor(lo * scale + 0.5) >= -(1 << (width - 1))):
            return Format(True, width, frac)
    return Format(True, width, 0)


def assign_formats(cv, names, default: Format) -> Dict[str, Format]:
    """Formats of ``names`` (every tensor of the bundle): ``default`` except where a converter
    rule says otherwise; then the op modules fill their raw-unit attrs and tables."""
    formats = {n: default for n in names}
    for n in cv.own_format:
        formats[n] = fit_format(cv.weight_array(n), default.width)
    formats.update(cv.fixed_format)
    for rule in cv.format_rules:
        rule(formats)
    for fill in cv.finalizers:
        fill(formats)
    return formats
