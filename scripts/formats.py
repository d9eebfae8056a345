"""Choosing every tensor's fixed-point format (cnn-spec "Formats").

By default every tensor gets the model's format; tensors the exporter creates may get their own
(slopes and scales: fitted to their values; LUT tables: the output's format; the softmax exp
table: a fixed format). With calibration (``--calibrate``) each group of tensors that must share
a format (the inputs and outputs of relu, add, flatten, maxpool, clamp, threshold, prelu, an
identity-above lut) gets the fewest integer bits that hold every float value seen on the example
inputs, and each weight the fewest for its own values. ``--formats FILE.json`` then sets formats
by tensor name. Finally the op modules' frac limits (``ops.LIMITS``: a MAC's output and bias
frac <= Fx + Fw, avgpool's output frac <= Fx + 16) are enforced by lowering fracs.
"""

from __future__ import annotations

import json
from typing import Dict, Iterable, List, Mapping, Optional

import numpy as np

import ops
from numerics import Format, NumericsError

#: the compiler's limits on a format
MAX_WIDTH = 32


class FormatError(ValueError):
    """A user-given format or format file is invalid."""


def check_format(fmt: Format, what: str) -> Format:
    if fmt.width > MAX_WIDTH or not 0 <= fmt.frac < fmt.width:
        raise FormatError(f"{what}: format {fmt} is outside the compiler's limits (width <= "
                          f"{MAX_WIDTH}, 0 <= frac < width)")
    return fmt


def parse_precision(text: str) -> Format:
    """``W,F`` -> Format."""
    parts = text.split(",")
    try:
        width, frac = (int(p) for p in parts)
    except ValueError:
        raise FormatError(f"--precision expects W,F (two integers, e.g. 16,8), got {text!r}") \
            from None
    try:
        return check_format(Format(True, width, frac), "--precision")
    except NumericsError as e:
        raise FormatError(f"--precision {text}: {e}") from None


def load_formats_file(path: str) -> Dict[str, Format]:
    """``{"tensor": {"width": W, "frac": F}, ...}`` (``"signed": true`` optional)."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        raise FormatError(f"--formats {path}: {e.strerror or e}") from None
    except json.JSONDecodeError as e:
        raise FormatError(f"--formats {path}: invalid JSON: {e}") from None
    if not isinstance(doc, dict):
        raise FormatError(f"--formats {path}: expected an object mapping tensor names to "
                          f"formats")
    out = {}
    for name, spec in doc.items():
        if not isinstance(spec, dict) or set(spec) - {"signed", "width", "frac"} or not {
                "width", "frac"} <= set(spec):
            raise FormatError(f"--formats {path}: tensor {name!r}: expected "
                              f"{{\"width\": W, \"frac\": F}}, got {spec!r}")
        try:
            fmt = Format(spec.get("signed", True), spec["width"], spec["frac"])
        except NumericsError as e:
            raise FormatError(f"--formats {path}: tensor {name!r}: {e}") from None
        out[name] = check_format(fmt, f"--formats {path}: tensor {name!r}")
    return out


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


class _Groups:
    """Union-find over tensor names."""

    def __init__(self, names: Iterable[str]):
        self.parent = {n: n for n in names}

    def find(self, n: str) -> str:
        while self.parent[n] != n:
            self.parent[n] = self.parent[self.parent[n]]
            n = self.parent[n]
        return n

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)

    def members(self) -> Dict[str, List[str]]:
        out: Dict[str, List[str]] = {}
        for n in self.parent:
            out.setdefault(self.find(n), []).append(n)
        return out


def assign_formats(cv, names: List[str], default: Format,
                   floats: Optional[Mapping[str, np.ndarray]] = None,
                   overrides: Optional[Mapping[str, Format]] = None) -> Dict[str, Format]:
    """Formats of ``names`` (every tensor of the bundle); ``floats`` (tensor -> float values
    seen) turns calibration on. Then the op modules fill their raw-unit attrs and tables."""
    groups = _Groups(names)
    for tied in cv.ties:
        for t in tied[1:]:
            groups.union(tied[0], t)
    members = groups.members()
    own = set(cv.own_format) | set(cv.fixed_format)
    formats = {n: default for n in names}
    if floats is not None:
        for group in members.values():
            seen = [np.ravel(floats[n]) for n in group if n in floats and n not in own]
            if seen:
                fmt = fit_format(np.concatenate(seen), default.width)
                for n in group:
                    formats[n] = fmt
    for n in cv.own_format:
        formats[n] = fit_format(cv.weight_array(n), default.width)
    formats.update(cv.fixed_format)
    for name, fmt in (overrides or {}).items():
        if name not in formats:
            raise FormatError(f"--formats names tensor {name!r}, which the bundle does not "
                              f"have (tensors: {', '.join(names)})")
        group = members[groups.find(name)]
        clash = [o for o in group if o != name and o in overrides and overrides[o] != fmt]
        if clash:
            raise FormatError(f"--formats gives {name!r} format {fmt} but {clash[0]!r} "
                              f"{overrides[clash[0]]}; they must share one format")
        for n in group:
            formats[n] = fmt
    _enforce_limits(cv, formats, groups, members)
    for rule in cv.format_rules:
        rule(formats)
    for fill in cv.finalizers:
        fill(formats)
    return formats


def _enforce_limits(cv, formats, groups, members) -> None:
    """Lower fracs (of a whole tied group) until every op's limit holds."""
    changed = True
    while changed:
        changed = False
        for node in cv.nodes:
            limits = ops.LIMITS.get(node["op"])
            for tensor, top in (limits(node, formats) if limits else []):
                if formats[tensor].frac > top:
                    for n in members[groups.find(tensor)]:
                        formats[n] = Format(True, formats[n].width, max(0, top))
                    changed = True


def ranges(floats: Mapping[str, np.ndarray], formats: Mapping[str, Format]) -> dict:
    """Per tensor: the float min and max seen, how many values there were and how many
    saturate in the tensor's format."""
    out = {}
    for name, v in floats.items():
        v = np.asarray(v, dtype=np.float64).ravel()
        fmt = formats[name]
        scaled = np.floor(v * float(1 << fmt.frac) + 0.5)
        sat = int(np.count_nonzero((scaled > fmt.max_int) | (scaled < fmt.min_int)))
        out[name] = {"min": float(v.min()) if v.size else 0.0,
                     "max": float(v.max()) if v.size else 0.0,
                     "count": int(v.size), "saturated": sat}
    return out


