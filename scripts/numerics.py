"""Bit-exact fixed-point reference numerics for mlcalyx (bundle version 1).

Everything here is plain NumPy integer arithmetic on int64 and is the
*specification* that the generated hardware must match bit for bit:

* A value with format ``{"signed": true, "width": W, "frac": F}`` is stored as
  an integer ``q`` and means ``q / 2**F``; ``q`` lies in
  ``[-(2**(W-1)), 2**(W-1) - 1]``.
* ``quantize(x, fmt) = saturate(floor(x * 2**F + 0.5))`` (round half up),
  computed in float64.
* ``shift_round``: arithmetic right shift with round-half-up, the requantization
  of every multiply-accumulate op (48-bit signed accumulator in hardware,
  checked up front by ``check_linear_formats`` so it can never overflow).
* Each op's reference (linear, conv, pools, activations, ...) lives in its own
  module of ``scripts/ops/``; the interpreter here dispatches to them.

The module also contains the graph interpreter that evaluates a model bundle
(``model.json`` + ``.npy`` files). ``scripts/export.py`` uses it to produce the
golden fixed-point outputs, so the goldens and any later check of a bundle run
through the same code.

Command line: ``python scripts/numerics.py BUNDLE_DIR`` re-runs a bundle on its
golden fixed inputs and checks the result against its golden fixed outputs.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Dict, Mapping, Optional

import numpy as np

SCHEMA = "mlcalyx.bundle"
VERSION = 1

#: Width of the signed hardware accumulator used by ``linear``.
ACC_BITS = 48
#: Every partial sum must stay strictly below this magnitude.
ACC_LIMIT = 1 << (ACC_BITS - 1)

#: Maximum supported total width (values are computed in int64).
MAX_WIDTH = 63

ROLES = ("input", "weight", "activation", "output")


class NumericsError(ValueError):
    """A fixed-point rule was violated (bad format, overflow risk, shapes)."""


class BundleError(ValueError):
    """A model bundle is malformed or inconsistent."""


# --------------------------------------------------------------------------
# Formats
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Format:
    """Fixed-point number format: value = int / 2**frac, two's complement."""

    signed: bool = True
    width: int = 16
    frac: int = 8

    def __post_init__(self) -> None:
        for field, value in (("width", self.width), ("frac", self.frac)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise NumericsError(f"format {field} must be an integer, got {value!r}")
        if self.signed is not True:
            raise NumericsError("only signed formats are supported (signed must be true)")
        if not 2 <= self.width <= MAX_WIDTH:
            raise NumericsError(f"format width must be in [2, {MAX_WIDTH}], got {self.width}")
        if not 0 <= self.frac <= self.width:
            raise NumericsError(
                f"format frac must be in [0, width={self.width}], got {self.frac}")

    @property
    def min_int(self) -> int:
        return -(1 << (self.width - 1))

    @property
    def max_int(self) -> int:
        return (1 << (self.width - 1)) - 1

    @property
    def lsb(self) -> float:
        """Value of one least significant bit."""
        return 2.0 ** -self.frac

    @property
    def storage_dtype(self) -> np.dtype:
        """Little-endian integer dtype used for .npy files of this format."""
        return storage_dtype(self.width)

    def to_json(self) -> dict:
        return {"signed": self.signed, "width": self.width, "frac": self.frac}

    @classmethod
    def from_json(cls, obj: Mapping) -> "Format":
        if not isinstance(obj, Mapping):
            raise BundleError(f"format must be an object, got {obj!r}")
        extra = set(obj) - {"signed", "width", "frac"}
        if extra:
            raise BundleError(f"unknown format keys {sorted(extra)}")
        try:
            return cls(signed=obj["signed"], width=obj["width"], frac=obj["frac"])
        except KeyError as e:
            raise BundleError(f"format is missing key {e.args[0]!r}") from None

    def __str__(self) -> str:
        return f"{'s' if self.signed else 'u'}{self.width}.{self.frac}"


DEFAULT_FORMAT = Format(signed=True, width=16, frac=8)


def storage_dtype(width: int) -> np.dtype:
    """int16 when width <= 16, int32 when <= 32, else int64 (little endian)."""
    if width <= 16:
        return np.dtype("<i2")
    if width <= 32:
        return np.dtype("<i4")
    return np.dtype("<i8")


# --------------------------------------------------------------------------
# Elementary operations (all return int64 arrays)
# --------------------------------------------------------------------------


def _as_int64(a, what: str = "value") -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind not in "iu":
        raise NumericsError(f"{what} must be an integer array, got dtype {arr.dtype}")
    if arr.dtype.kind == "u" and arr.dtype.itemsize >= 8 and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise NumericsError(f"{what} does not fit in int64")
    return arr.astype(np.int64)


def saturate(v, fmt: Format) -> np.ndarray:
    """Clip integers to the representable range of ``fmt``."""
    return np.clip(_as_int64(v), fmt.min_int, fmt.max_int).astype(np.int64)


def check_range(q, fmt: Format, what: str = "value") -> np.ndarray:
    """Return ``q`` as int64, raising if any element is outside ``fmt``."""
    q = _as_int64(q, what)
    if q.size and (q.min() < fmt.min_int or q.max() > fmt.max_int):
        raise NumericsError(
            f"{what} has integers outside the range of format {fmt} "
            f"[{fmt.min_int}, {fmt.max_int}]: min {int(q.min())}, max {int(q.max())}")
    return q


def quantize(x, fmt: Format) -> np.ndarray:
    """saturate(floor(x * 2**frac + 0.5)) in float64, as int64 (round half up)."""
    xf = np.asarray(x, dtype=np.float64)
    if np.isnan(xf).any():
        raise NumericsError("cannot quantize NaN")
    scaled = np.floor(xf * float(1 << fmt.frac) + 0.5)
    # Clip in float first, to bounds that are exact powers of two (so the cast
    # to int64 cannot overflow, also for +-inf), then saturate exactly.
    scaled = np.clip(scaled, -float(1 << (fmt.width - 1)), float(1 << (fmt.width - 1)))
    return saturate(scaled.astype(np.int64), fmt)


def dequantize(q, fmt: Format) -> np.ndarray:
    """Integer -> float64 value (exact for width <= 53)."""
    return _as_int64(q).astype(np.float64) / float(1 << fmt.frac)


def shift_round(acc, s: int) -> np.ndarray:
    """Arithmetic right shift by ``s`` with rounding half toward +infinity."""
    acc = _as_int64(acc)
    if s < 0:
        raise NumericsError(f"negative requantization shift {s}")
    if s == 0:
        return acc
    return (acc + np.int64(1 << (s - 1))) >> np.int64(s)


def linear_acc_bound(k: int, fx: Format, fw: Format, fb: Optional[Format] = None) -> int:
    """Largest possible |partial sum| of a linear layer's accumulator, plus
    the aligned bias when there is one (all exact Python integers)."""
    bound = k * (1 << (fx.width - 1)) * (1 << (fw.width - 1))
    if fb is not None:
        bound += (1 << (fb.width - 1)) << (fx.frac + fw.frac - fb.frac)
    return bound


def check_linear_formats(k: int, fx: Format, fw: Format, fb: Optional[Format], fy: Format,
                         op: str = "linear") -> None:
    """Raise NumericsError unless a linear layer (or conv, scale_shift: ``op``) with reduction
    size ``k`` and these formats is exactly computable with the 48-bit accumulator."""
    if fx.frac + fw.frac < fy.frac:
        raise NumericsError(
            f"{op} output frac {fy.frac} exceeds input frac + weight frac "
            f"({fx.frac} + {fw.frac}); requantization shift would be negative")
    if fb is not None and fx.frac + fw.frac < fb.frac:
        raise NumericsError(
            f"{op} bias frac {fb.frac} exceeds input frac + weight frac "
            f"({fx.frac} + {fw.frac}); the bias cannot be aligned by a left shift")
    products = linear_acc_bound(k, fx, fw)
    if products >= ACC_LIMIT:
        raise NumericsError(
            f"{op} accumulator overflow risk: K={k} products of {fx.width}-bit x "
            f"{fw.width}-bit values can reach {products} >= 2**{ACC_BITS - 1} "
            f"({ACC_BITS}-bit signed accumulator)")
    if fb is not None:
        total = linear_acc_bound(k, fx, fw, fb)
        if total >= ACC_LIMIT:
            raise NumericsError(
                f"{op} accumulator overflow risk: K={k} products plus the aligned "
                f"{fb.width}-bit bias can reach {total} >= 2**{ACC_BITS - 1} "
                f"({ACC_BITS}-bit signed accumulator)")


# --------------------------------------------------------------------------
# Bundle I/O and graph interpreter
# --------------------------------------------------------------------------


def to_storage(q, fmt: Format) -> np.ndarray:
    """int64 values -> C-ordered array with the file dtype of ``fmt``."""
    q = check_range(q, fmt)
    return np.ascontiguousarray(q.astype(fmt.storage_dtype))


def save_npy(path: str, arr: np.ndarray) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "wb") as f:
        np.save(f, np.ascontiguousarray(arr), allow_pickle=False)


def load_npy(path: str) -> np.ndarray:
    return np.load(path, allow_pickle=False)


def load_model_json(bundle_dir: str) -> dict:
    path = os.path.join(bundle_dir, "model.json")
    try:
        with open(path, "r", encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise BundleError(f"{path}: not found") from None
    except json.JSONDecodeError as e:
        raise BundleError(f"{path}: invalid JSON: {e}") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise BundleError(f"{path}: not an {SCHEMA} document")
    if doc.get("version") != VERSION:
        raise BundleError(f"{path}: unsupported bundle version {doc.get('version')!r} "
                          f"(this tool reads version {VERSION})")
    return doc


def _bundle_file(bundle_dir: str, rel: str) -> str:
    if not isinstance(rel, str) or os.path.isabs(rel) or ".." in rel.replace("\\", "/").split("/"):
        raise BundleError(f"bad file path in bundle: {rel!r}")
    return os.path.join(bundle_dir, rel)


def _load_int_file(path: str, shape, fmt: Format, what: str) -> np.ndarray:
    try:
        arr = load_npy(path)
    except FileNotFoundError:
        raise BundleError(f"{what}: file {path} not found") from None
    if arr.dtype != fmt.storage_dtype:
        raise BundleError(f"{what}: {path} has dtype {arr.dtype}, expected {fmt.storage_dtype}")
    if list(arr.shape) != list(shape):
        raise BundleError(f"{what}: {path} has shape {list(arr.shape)}, expected {list(shape)}")
    return check_range(arr, fmt, what)


class Graph:
    """Parsed, validated view of a bundle's model.json."""

    def __init__(self, doc: dict):
        self.doc = doc
        self.tensors: Dict[str, dict] = {}
        self.formats: Dict[str, Format] = {}
        for t in doc.get("tensors", []):
            name = t.get("name")
            if not isinstance(name, str) or not name:
                raise BundleError(f"tensor without a name: {t!r}")
            if name in self.tensors:
                raise BundleError(f"tensor {name!r} listed twice")
            if t.get("role") not in ROLES:
                raise BundleError(f"tensor {name!r} has bad role {t.get('role')!r}")
            shape = t.get("shape")
            if not isinstance(shape, list) or not all(
                    isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
                raise BundleError(f"tensor {name!r} has bad shape {shape!r}")
            if (t["role"] == "weight") != ("file" in t):
                raise BundleError(f"tensor {name!r}: exactly the weights have a 'file'")
            self.tensors[name] = t
            try:
                self.formats[name] = Format.from_json(t.get("format"))
            except NumericsError as e:
                raise BundleError(f"tensor {name!r}: {e}") from None
        self.nodes = doc.get("nodes", [])
        self.inputs = list(doc.get("inputs", []))
        self.outputs = list(doc.get("outputs", []))
        for n in self.inputs:
            if self.tensors.get(n, {}).get("role") != "input":
                raise BundleError(f"graph input {n!r} is not a tensor with role 'input'")
        for n in self.outputs:
            if self.tensors.get(n, {}).get("role") != "output":
                raise BundleError(f"graph output {n!r} is not a tensor with role 'output'")
        import ops  # the op modules import this one
        produced = set()
        for node in self.nodes:
            if node.get("op") not in ops.OPS:
                raise BundleError(f"node {node.get('name')!r}: unknown op {node.get('op')!r}")
            outs = node.get("outputs", [])
            if len(outs) != 1:
                raise BundleError(f"node {node.get('name')!r}: expected exactly one output")
            for o in outs:
                if o not in self.tensors or self.tensors[o]["role"] not in ("activation", "output"):
                    raise BundleError(f"node {node.get('name')!r}: output {o!r} is not an activation/output tensor")
                if o in produced:
                    raise BundleError(f"tensor {o!r} is produced twice")
                produced.add(o)
            for i in node.get("inputs", []):
                if i not in self.tensors:
                    raise BundleError(f"node {node.get('name')!r}: unknown input tensor {i!r}")
        for name, t in self.tensors.items():
            if t["role"] in ("activation", "output") and name not in produced:
                raise BundleError(f"tensor {name!r} ({t['role']}) is not produced by any node")

    def shape(self, name: str) -> tuple:
        return tuple(self.tensors[name]["shape"])


def eval_node(node: dict, values: Mapping[str, np.ndarray], formats: Mapping[str, Format]) -> np.ndarray:
    """Evaluate one bundle node on int64 values (the op's reference in scripts/ops/)."""
    import ops
    evaluate = ops.REFERENCES.get(node.get("op"))
    if evaluate is None:
        raise BundleError(f"node {node.get('name')!r}: unknown op {node.get('op')!r}")
    return evaluate(node, values, formats)


def run_graph(doc: dict, weights: Mapping[str, np.ndarray], inputs: Mapping[str, np.ndarray],
              trace: bool = False) -> Dict[str, np.ndarray]:
    """Run a parsed model.json on integer weights and inputs.

    Returns {output name: int64 array}; with ``trace=True`` every tensor
    (inputs, weights, activations, outputs) is returned.
    """
    g = Graph(doc)
    values: Dict[str, np.ndarray] = {}
    for name, t in g.tensors.items():
        if t["role"] == "weight":
            if name not in weights:
                raise BundleError(f"missing weight {name!r}")
            values[name] = check_range(weights[name], g.formats[name], f"weight {name!r}")
    missing = [n for n in g.inputs if n not in inputs]
    if missing:
        raise BundleError(f"missing input(s): {missing}")
    for name in g.inputs:
        arr = check_range(inputs[name], g.formats[name], f"input {name!r}")
        if arr.shape != g.shape(name):
            raise BundleError(f"input {name!r} has shape {list(arr.shape)}, expected {list(g.shape(name))}")
        values[name] = arr
    for name in values:
        if values[name].shape != g.shape(name):
            raise BundleError(f"tensor {name!r} has shape {list(values[name].shape)}, "
                              f"expected {list(g.shape(name))}")
    for node in g.nodes:
        for i in node["inputs"]:
            if i not in values:
                raise BundleError(f"node {node['name']!r} reads {i!r} before it is computed")
        try:
            y = eval_node(node, values, g.formats)
        except NumericsError as e:
            raise NumericsError(f"node {node['name']!r} ({node['op']}): {e}") from None
        out = node["outputs"][0]
        if y.shape != g.shape(out):
            raise BundleError(f"node {node['name']!r} computed shape {list(y.shape)}, "
                              f"but tensor {out!r} is declared {list(g.shape(out))}")
        values[out] = y
    if trace:
        return values
    return {name: values[name] for name in g.outputs}


def load_weights(bundle_dir: str, doc: Optional[dict] = None) -> Dict[str, np.ndarray]:
    doc = doc if doc is not None else load_model_json(bundle_dir)
    g = Graph(doc)
    return {name: _load_int_file(_bundle_file(bundle_dir, t["file"]), t["shape"], g.formats[name],
                                 f"weight {name!r}")
            for name, t in g.tensors.items() if t["role"] == "weight"}


def load_golden(bundle_dir: str, kind: str = "inputs", which: str = "fixed",
                doc: Optional[dict] = None) -> Dict[str, np.ndarray]:
    """Golden ``inputs``/``outputs``, ``fixed`` (int64) or ``float`` (float32)."""
    doc = doc if doc is not None else load_model_json(bundle_dir)
    g = Graph(doc)
    section = (doc.get("golden") or {}).get(kind) or {}
    out = {}
    for name in (g.inputs if kind == "inputs" else g.outputs):
        if name not in section or which not in section[name]:
            raise BundleError(f"golden {kind} {which} for {name!r} missing from model.json")
        path = _bundle_file(bundle_dir, section[name][which])
        if which == "fixed":
            out[name] = _load_int_file(path, g.shape(name), g.formats[name], f"golden {name!r}")
        else:
            arr = load_npy(path)
            if arr.dtype != np.dtype("<f4") or list(arr.shape) != list(g.shape(name)):
                raise BundleError(f"golden float {path}: expected float32 {g.shape(name)}, "
                                  f"got {arr.dtype} {list(arr.shape)}")
            out[name] = arr
    return out


def run_bundle(bundle_dir: str, inputs: Optional[Mapping[str, np.ndarray]] = None,
               trace: bool = False) -> Dict[str, np.ndarray]:
    """Evaluate a bundle directory. ``inputs`` default to its golden fixed inputs."""
    doc = load_model_json(bundle_dir)
    weights = load_weights(bundle_dir, doc)
    if inputs is None:
        inputs = load_golden(bundle_dir, "inputs", "fixed", doc)
    return run_graph(doc, weights, inputs, trace=trace)


def check_bundle(bundle_dir: str) -> Dict[str, dict]:
    """Re-run a bundle and compare with its goldens.

    Returns per output: {"match": bool (fixed golden reproduced exactly),
    "max_abs_err": max |fixed value - float golden|, "max_err_lsb": same in LSBs}.
    """
    doc = load_model_json(bundle_dir)
    g = Graph(doc)
    got = run_bundle(bundle_dir)
    fixed = load_golden(bundle_dir, "outputs", "fixed", doc)
    flt = load_golden(bundle_dir, "outputs", "float", doc)
    report = {}
    for name in g.outputs:
        fmt = g.formats[name]
        err = np.abs(dequantize(fixed[name], fmt) - flt[name].astype(np.float64))
        max_err = float(err.max()) if err.size else 0.0
        report[name] = {
            "match": bool(np.array_equal(got[name], fixed[name])),
            "max_abs_err": max_err,
            "max_err_lsb": max_err / fmt.lsb,
        }
    return report


def main(argv=None) -> int:
    import argparse
    p = argparse.ArgumentParser(description="Re-run an mlcalyx model bundle with the reference "
                                            "fixed-point numerics and check its goldens.")
    p.add_argument("bundle", nargs="+", help="bundle directory (contains model.json)")
    args = p.parse_args(argv)
    status = 0
    for d in args.bundle:
        try:
            report = check_bundle(d)
        except (BundleError, NumericsError) as e:
            print(f"numerics: {d}: {e}", file=sys.stderr)
            status = 1
            continue
        for name, r in report.items():
            ok = "ok" if r["match"] else "MISMATCH"
            print(f"{d}: output {name}: fixed golden {ok}; max |fixed-float| = "
                  f"{r['max_abs_err']:.6g} ({r['max_err_lsb']:.2f} LSB)")
            if not r["match"]:
                status = 1
    return status


if __name__ == "__main__":
    # Run as the module `numerics`, the one scripts/ops imports (one Format class, not two).
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import numerics
    sys.exit(numerics.main())
