#!/usr/bin/env python3
"""Export a PyTorch model file to an mlcalyx model bundle (version 1).

Usage: python scripts/export.py MODEL.py OUT_DIR [--precision W,F | --width W --frac F]
       [--calibrate] [--formats FILE.json] [--debug]

MODEL.py defines ``build()`` returning ``(model, example_inputs)``: an
``nn.Module`` and a tuple of example input tensors. The model is captured with
``torch.export.export`` and its ATen graph is mapped onto the mlcalyx ops by the
matchers of ``scripts/ops/`` (one module per op; formats: ``scripts/formats.py``).
OUT_DIR receives:

    model.json                     graph, tensors, formats, golden file index (and, with
                                   --calibrate, --precision or --formats, "calibration":
                                   each tensor's float range and saturation count)
    weights/<name>.npy             quantized weights (int16/int32/int64)
    golden/<input>.npy             quantized example inputs
    golden/<input>.float.npy       original float32 example inputs
    golden/<output>.npy            fixed-point reference outputs (numerics.py)
    golden/<output>.float.npy      float32 PyTorch outputs

The bundle is written to a temporary sibling directory and renamed into place
only on success, and it is byte-for-byte reproducible.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import inspect
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import traceback
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numerics  # noqa: E402
from numerics import DEFAULT_FORMAT, Format  # noqa: E402
import ops  # noqa: E402
from formats import FormatError, assign_formats, load_formats_file, parse_precision  # noqa: E402
from formats import ranges as formats_ranges  # noqa: E402
from ops.common import Unsupported as _Unsupported  # noqa: E402

try:
    import torch
    import torch.utils._pytree as pytree
except ImportError as _e:  # pragma: no cover - environment problem
    print(f"export: cannot import torch ({_e}); install scripts/requirements.txt", file=sys.stderr)
    sys.exit(1)


class ExportError(Exception):
    """A user-facing export failure; the message is printed without a traceback."""


class Terminated(BaseException):
    """SIGTERM, SIGINT or SIGHUP arrived: unwind (removing the temporary bundle) and exit."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum, _frame):
    raise Terminated(signum)


@dataclass
class Summary:
    name: str
    nodes: int
    tensors: int
    out_dir: str
    aten_ops: List[str]


# --------------------------------------------------------------------------
# Loading the model file
# --------------------------------------------------------------------------


def seed_everything(seed: int = 0) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@contextlib.contextmanager
def _model_import_context(path: str, module_name: str):
    """Make the model's folder importable and register the module while it runs."""
    folder = os.path.dirname(path)
    saved_path = list(sys.path)
    saved_bytecode = sys.dont_write_bytecode
    sys.path.insert(0, folder)
    sys.dont_write_bytecode = True
    try:
        yield
    finally:
        sys.path[:] = saved_path
        sys.dont_write_bytecode = saved_bytecode
        sys.modules.pop(module_name, None)


def _describe_exc(e: BaseException) -> str:
    msg = str(e).strip()
    first = msg.splitlines()[0] if msg else ""
    return f"{type(e).__name__}: {first}" if first else type(e).__name__


def load_model_module(path: str, module_name: str):
    if not os.path.isfile(path):
        raise ExportError(f"model file {path} not found")
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ExportError(f"cannot import {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    seed_everything(0)
    try:
        spec.loader.exec_module(module)
    except SystemExit as e:
        raise ExportError(f"importing {os.path.basename(path)} called sys.exit({e.code!r})") from e
    except Exception as e:
        raise ExportError(f"importing {os.path.basename(path)} failed: {_describe_exc(e)}") from e
    return module


def call_build(module, basename: str):
    build = getattr(module, "build", None)
    if build is None:
        raise ExportError(f"{basename} does not define build(); it must define "
                          f"build() -> (model, example_inputs)")
    if not callable(build):
        raise ExportError(f"{basename}: build is not callable")
    seed_everything(0)
    try:
        result = build()
    except SystemExit as e:
        raise ExportError(f"build() in {basename} called sys.exit({e.code!r}) instead of "
                          f"returning (model, example_inputs)") from e
    except Exception as e:
        raise ExportError(f"build() in {basename} raised {_describe_exc(e)}") from e
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise ExportError(f"build() in {basename} must return (model, example_inputs), "
                          f"got {type(result).__name__}")
    model, inputs = result
    if not isinstance(model, torch.nn.Module):
        raise ExportError(f"build() in {basename}: model must be a torch.nn.Module, "
                          f"got {type(model).__name__}")
    if isinstance(inputs, torch.Tensor):
        inputs = (inputs,)
    if not isinstance(inputs, (tuple, list)) or not inputs:
        raise ExportError(f"build() in {basename}: example_inputs must be a non-empty tuple "
                          f"of tensors")
    inputs = tuple(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, torch.Tensor):
            raise ExportError(f"build() in {basename}: example input {i} is a "
                              f"{type(t).__name__}, not a tensor")
        if not t.is_floating_point():
            raise ExportError(f"build() in {basename}: example input {i} has dtype {t.dtype}; "
                              f"only floating-point inputs are supported")
        bad = _first_non_finite(t)
        if bad is not None:
            raise ExportError(f"build() in {basename}: example input {i}{_input_name(model, i)} "
                              f"holds {bad[1]} at flat index {bad[0]}; inputs must be finite "
                              f"numbers")
    return model, inputs


def _input_name(model: torch.nn.Module, i: int) -> str:
    """" ('x')" for the i-th parameter of model.forward, or "" if it has no plain name."""
    try:
        params = [p for p in inspect.signature(model.forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return ""
    return f" ('{params[i].name}')" if i < len(params) else ""


def _first_non_finite(t: torch.Tensor) -> Optional[Tuple[int, str]]:
    """(flat index, "nan"/"inf"/"-inf") of the first non-finite element, or None."""
    flat = t.detach().reshape(-1)
    bad = (~torch.isfinite(flat)).nonzero()
    if bad.numel() == 0:
        return None
    i = int(bad[0, 0])
    return i, str(float(flat[i])).lower()


# --------------------------------------------------------------------------
# Source locations
# --------------------------------------------------------------------------

_FRAME_RE = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)', re.M)
_TORCH_DIR = os.path.dirname(os.path.realpath(torch.__file__))


def _realpath(p: str) -> str:
    try:
        return os.path.realpath(p)
    except OSError:  # pragma: no cover
        return p


def source_location(node, model_path: str) -> Optional[str]:
    """``basename:line`` of the innermost frame in the user's model file (or,
    failing that, the innermost frame outside torch itself)."""
    trace = node.meta.get("stack_trace") or ""
    frames = [(m.group("file"), int(m.group("line"))) for m in _FRAME_RE.finditer(trace)]
    model_real = _realpath(model_path)
    for f, line in reversed(frames):
        if _realpath(f) == model_real:
            return f"{os.path.basename(f)}:{line}"
    for f, line in reversed(frames):
        rf = _realpath(f)
        if rf.startswith(_TORCH_DIR + os.sep) or f.startswith("<"):
            continue
        return f"{os.path.basename(f)}:{line}"
    return None


def _type_name(t) -> str:
    if isinstance(t, type):
        return t.__name__
    s = str(t)
    if s.startswith("<class '") and s.endswith("'>"):
        s = s[len("<class '"):-2]
    return s.rsplit(".", 1)[-1]


def _module_path(p: str) -> str:
    p = str(p)
    for prefix in ("L['self'].", "L['self']"):
        if p.startswith(prefix):
            p = p[len(prefix):]
    return p


def module_info(node, root_type: str) -> Tuple[str, str]:
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return "", root_type
    path, typ = list(stack.values())[-1][:2]
    return _module_path(path), _type_name(typ)


def node_source(node, model_path: str, root_type: str) -> dict:
    module, typ = module_info(node, root_type)
    return {"module": module, "type": typ, "location": source_location(node, model_path)}


def describe_where(src: dict) -> str:
    mod = src["module"] if src["module"] else "<root>"
    parts = [f"module '{mod}'", src["type"]]
    if src.get("location"):
        parts.append(f"at {src['location']}")
    return "(" + ", ".join(parts) + ")"


# --------------------------------------------------------------------------
# ATen graph -> bundle graph
# --------------------------------------------------------------------------

def _op_name(target) -> str:
    if isinstance(target, torch._ops.OpOverload):
        ns = target.namespace
        return f"{ns}.{target._schema.name.split('::', 1)[-1]}.{target._overloadname}"
    if isinstance(target, torch._ops.OpOverloadPacket):
        return f"{target._qualified_op_name.replace('::', '.')}"
    mod = getattr(target, "__module__", None) or ""
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", None) or str(target)
    if mod in ("_operator", "operator"):
        mod = "operator"
    return f"{mod}.{name}" if mod else name


def _packet(target) -> Optional[str]:
    """'aten::linear' style name of an ATen overload, else None."""
    if isinstance(target, torch._ops.OpOverload):
        return target._schema.name
    return None


def _is_mutating(target) -> bool:
    return isinstance(target, torch._ops.OpOverload) and target._schema.is_mutable


def _is_assert(node) -> bool:
    name = _packet(node.target) or _op_name(node.target)
    base = name.split("::")[-1].split(".")[-1]
    return (base.startswith("_assert") or "sym_constrain_range" in base
            or node.target is torch._assert)


def _val(node):
    return node.meta.get("val")


def _shape(node) -> List[int]:
    v = _val(node)
    if isinstance(v, (tuple, list)) and v:
        v = v[0]  # a multi-output op (batch norm, max pooling with indices): its main result
    if not isinstance(v, torch.Tensor):
        raise _Unsupported("non-tensor value")
    try:
        return [int(d) for d in v.shape]
    except TypeError:
        raise _Unsupported("dynamic (symbolic) shape") from None


class Converter:
    """Maps the ATen graph onto bundle nodes. The op modules (scripts/ops/) do the matching
    through the methods below; formats are assigned after the whole graph is converted."""

    def __init__(self, ep, model_path: str, root_type: str, fmt: Format):
        self.ep = ep
        self.model_path = model_path
        self.root_type = root_type
        self.fmt = fmt
        self.tensor_of: Dict[object, str] = {}  # fx node -> bundle tensor name
        self.role: Dict[str, str] = {}
        self.shape: Dict[str, List[int]] = {}
        self.input_names: List[str] = []
        self.weight_order: List[str] = []  # placeholder order, then created weights
        self.weight_values: Dict[str, torch.Tensor] = {}
        self.weight_node: Dict[str, object] = {}  # weight name -> its placeholder
        self.nodes: List[dict] = []
        self.activation_order: List[str] = []
        self.outputs: List[str] = []
        self.errors: List[str] = []
        self.aten_ops: List[str] = []
        self.failed: set = set()  # fx nodes that could not be converted
        self.producers: Dict[object, dict] = {}  # fx node -> the bundle node it emitted
        self.float_node: Dict[str, object] = {}  # tensor -> fx node holding its float value
        self.ties: List[Tuple[str, ...]] = []  # tensors that must share one format
        self.own_format: List[str] = []  # created weights formatted from their values
        self.fixed_format: Dict[str, Format] = {}  # created tensors with a format of their own
        self.format_rules: list = []  # fn(formats) adjusting formats after assignment
        self.finalizers: list = []  # fn(formats) filling raw attrs and tables

    # -- what the op modules call ------------------------------------------
    @staticmethod
    def is_node(a) -> bool:
        return isinstance(a, torch.fx.Node)

    @staticmethod
    def value(node):
        v = _val(node)
        return v if isinstance(v, torch.Tensor) else None

    @staticmethod
    def is_multi_output(node) -> bool:
        return isinstance(_val(node), (tuple, list))

    @staticmethod
    def node_shape(node) -> List[int]:
        return _shape(node)

    def tensor_arg(self, a, what: str) -> str:
        if not isinstance(a, torch.fx.Node):
            raise _Unsupported(f"{what} is a constant ({a!r}), not a tensor")
        if a not in self.tensor_of:
            raise _Unsupported(f"{what} comes from an unsupported value")
        return self.tensor_of[a]

    def weight_arg(self, a, what: str, plural: str) -> str:
        name = self.tensor_arg(a, what)
        if self.role[name] != "weight":
            raise _Unsupported(f"{what} operand '{name}' is computed at run time; {plural} "
                               f"must be parameters or buffers")
        return name

    def emit(self, node, op: str, inputs: List[str], attrs: Optional[dict] = None,
             name: Optional[str] = None, shape: Optional[List[int]] = None) -> dict:
        """A bundle node for fx ``node`` (or, with ``name`` and ``shape``, an intermediate
        tensor of its own that ``node`` computes on)."""
        own = name is None
        name = node.name if own else name
        if name in self.role:
            raise _Unsupported(f"tensor name '{name}' is already taken")
        if own:
            self.tensor_of[node] = name
        self.role[name] = "activation"
        self.shape[name] = _shape(node) if shape is None else list(shape)
        self.activation_order.append(name)
        self.float_node[name] = node
        out = {
            "name": name,
            "op": op,
            "inputs": inputs,
            "outputs": [name],
            "attrs": attrs or {},
            "source": node_source(node, self.model_path, self.root_type),
        }
        self.nodes.append(out)
        if own:
            self.producers[node] = out
        return out

    def alias(self, node, src) -> None:
        self.alias_name(node, self.tensor_arg(src, "operand"))

    def alias_name(self, node, name: str) -> None:
        """fx ``node`` computes tensor ``name`` (no node of its own)."""
        self.tensor_of[node] = name
        if self.role.get(name) == "activation":
            self.float_node[name] = node  # a later alias (folded batch norm) has the value

    def producer(self, node) -> Optional[dict]:
        return self.producers.get(node)

    def weight_user_count(self, name: str) -> int:
        ph = self.weight_node.get(name)
        return len(ph.users) if ph is not None else 1

    def weight_array(self, name: str) -> np.ndarray:
        return self.weight_values[name].detach().cpu().double().numpy()

    def set_weight(self, name: str, values) -> None:
        arr = np.ascontiguousarray(np.asarray(values, dtype=np.float64))
        self.weight_values[name] = torch.from_numpy(arr)
        self.shape[name] = [int(d) for d in arr.shape]

    def new_weight(self, name: str, values, own_format: bool = False,
                   fmt: Optional[Format] = None) -> str:
        """A weight the exporter creates (slope, scale, table): ``values`` now or, for None,
        set by a finalizer. ``own_format``: formatted from its values at the model width;
        ``fmt``: this format."""
        if name in self.role:
            raise _Unsupported(f"tensor name '{name}' for a created weight is already taken")
        self.role[name] = "weight"
        self.weight_order.append(name)
        self.set_weight(name, np.zeros(1) if values is None else values)
        if own_format:
            self.own_format.append(name)
        if fmt is not None:
            self.fixed_format[name] = fmt
        return name

    def tie(self, *names: str) -> None:
        self.ties.append(tuple(names))

    def format_rule(self, fn) -> None:
        self.format_rules.append(fn)

    def after_formats(self, fn) -> None:
        self.finalizers.append(fn)

    def float_values(self, example_inputs) -> Dict[str, np.ndarray]:
        """Every bundle tensor's float values on the example inputs: the inputs, the weights
        (as folded), and each activation as the ATen graph computes it."""
        from torch.export.graph_signature import InputKind

        kinds = {s.arg.name: s for s in self.ep.graph_signature.input_specs
                 if hasattr(s.arg, "name")}
        user = iter(example_inputs)
        args = []
        for node in self.ep.graph.nodes:
            if node.op != "placeholder":
                continue
            spec = kinds[node.name]
            if spec.kind == InputKind.USER_INPUT:
                args.append(next(user))
            elif spec.target in self.ep.state_dict:
                args.append(self.ep.state_dict[spec.target])
            else:
                args.append(self.ep.constants[spec.target])
        seen: Dict[object, object] = {}

        class Recorder(torch.fx.Interpreter):
            def run_node(self, n):
                seen[n] = result = super().run_node(n)
                return result

        with torch.no_grad():
            Recorder(self.ep.graph_module).run(*args)
        out = {}
        for name, t in zip(self.input_names, example_inputs):
            out[name] = t.detach().cpu().double().numpy()
        for name in self.weight_order:
            out[name] = self.weight_array(name)
        for name in self.activation_order:
            v = seen[self.float_node[name]]
            if isinstance(v, (tuple, list)):
                v = v[0]
            out[name] = v.detach().cpu().double().numpy()
        return out

    @staticmethod
    def call_aten(node, x: np.ndarray) -> np.ndarray:
        """The fx node's own op on float64 values x (its other arguments as in the graph)."""
        with torch.no_grad():
            y = node.target(torch.from_numpy(np.asarray(x, dtype=np.float64)), *node.args[1:],
                            **node.kwargs)
        return y.numpy()

    def _fail(self, node, reason: str = ""):
        src = node_source(node, self.model_path, self.root_type)
        msg = (f"unsupported operator {_op_name(node.target)} at node '{node.name}' "
               f"{describe_where(src)}")
        if reason:
            msg += f": {reason}"
        self.errors.append(msg)
        self.failed.add(node)

    # -- main ------------------------------------------------------------
    def run(self):
        from torch.export.graph_signature import InputKind, OutputKind

        sig = self.ep.graph_signature
        specs = {s.arg.name: s for s in sig.input_specs if hasattr(s.arg, "name")}
        mutated = {"BUFFER_MUTATION": "buffer", "USER_INPUT_MUTATION": "input",
                   "PARAMETER_MUTATION": "parameter"}
        for s in sig.output_specs:
            if s.kind == OutputKind.USER_OUTPUT:
                continue
            what = s.target or getattr(s.arg, "name", "?")
            if s.kind.name in mutated:
                self.errors.append(f"the model mutates {mutated[s.kind.name]} '{what}' in "
                                   f"forward(); state mutation is not supported")
            else:
                self.errors.append(f"unsupported graph output '{what}' of kind {s.kind.name}")
        graph = self.ep.graph
        for node in graph.nodes:
            if node.op == "placeholder":
                self._placeholder(node, specs.get(node.name), InputKind)
                if node not in self.tensor_of:
                    self.failed.add(node)
            elif node.op == "call_function":
                op = _op_name(node.target)
                if op not in self.aten_ops:
                    self.aten_ops.append(op)
                if any(a in self.failed for a in node.all_input_nodes):
                    self.failed.add(node)  # already reported at its source
                    continue
                try:
                    self._call(node)
                except _Unsupported as e:
                    self._fail(node, e.reason)
            elif node.op == "output":
                self._output(node)
            else:
                self.errors.append(f"unsupported graph node '{node.name}' of kind {node.op}")
        if self.errors:
            raise ExportError("\n".join(self.errors))

    def _placeholder(self, node, spec, InputKind):
        if spec is None:
            self.errors.append(f"placeholder '{node.name}' missing from the graph signature")
            return
        v = _val(node)
        if spec.kind == InputKind.USER_INPUT:
            if not isinstance(v, torch.Tensor):
                self.errors.append(f"input '{node.name}' is not a tensor")
                return
            name = node.name
            self.input_names.append(name)
            self.role[name] = "input"
            try:
                self.shape[name] = _shape(node)
            except _Unsupported as e:
                self.errors.append(f"input '{name}': {e.reason}")
                return
            self.tensor_of[node] = name
        elif spec.kind in (InputKind.PARAMETER, InputKind.BUFFER, InputKind.CONSTANT_TENSOR):
            name = spec.target
            if spec.target in self.ep.state_dict:
                value = self.ep.state_dict[spec.target]
            elif spec.target in self.ep.constants:
                value = self.ep.constants[spec.target]
            else:
                self.errors.append(f"no value found for {spec.kind.name.lower()} '{name}'")
                return
            if not isinstance(value, torch.Tensor):
                self.errors.append(f"{spec.kind.name.lower()} '{name}' is not a tensor")
                return
            self.tensor_of[node] = name
            self.role[name] = "weight"
            self.shape[name] = [int(d) for d in value.shape]
            self.weight_order.append(name)
            self.weight_values[name] = value
            self.weight_node[name] = node
        else:
            self.errors.append(f"unsupported graph input '{node.name}' of kind {spec.kind.name}")

    def _call(self, node):
        if _is_assert(node):
            return
        key = _packet(node.target) or _op_name(node.target)
        convert = ops.MATCHERS.get(key)
        if convert is None:
            raise _Unsupported()
        convert(self, node)

    def _output(self, node):
        leaves = pytree.tree_leaves(node.args[0])
        for leaf in leaves:
            if isinstance(leaf, torch.fx.Node) and leaf in self.failed:
                continue
            if not isinstance(leaf, torch.fx.Node) or leaf not in self.tensor_of:
                self.errors.append(f"model output {leaf!r} is not a supported tensor")
                continue
            name = self.tensor_of[leaf]
            if self.role.get(name) in ("input", "weight"):
                self.errors.append(f"model output '{leaf.name}' is just the {self.role[name]} "
                                   f"'{name}' (nothing is computed)")
                continue
            if name in self.outputs:
                self.errors.append(f"model output '{name}' is returned more than once")
                continue
            self.outputs.append(name)
            self.role[name] = "output"


# --------------------------------------------------------------------------
# Bundle writing
# --------------------------------------------------------------------------


def _depth(obj) -> int:
    if isinstance(obj, dict):
        return 1 + max((_depth(v) for v in obj.values()), default=0)
    if isinstance(obj, list):
        return 1 + max((_depth(v) for v in obj), default=0)
    return 0


def _dump_json(obj, indent: int = 0) -> str:
    """Deterministic pretty JSON: containers nested at most two deep (a tensor
    entry, a node's source) go on one line, larger ones are spread out."""
    if _depth(obj) <= 2:
        return json.dumps(obj, separators=(", ", ": "))
    pad = "  " * indent
    pad1 = "  " * (indent + 1)
    if isinstance(obj, dict):
        items = [f"{pad1}{json.dumps(k)}: {_dump_json(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    items = [f"{pad1}{_dump_json(v, indent + 1)}" for v in obj]
    return "[\n" + ",\n".join(items) + "\n" + pad + "]"


def _file_stem(name: str) -> str:
    """The file name (without extension) for a tensor's .npy files: the name itself, or for a
    name too long for a file system (or holding a path separator) a readable prefix and a hash
    of the whole name. model.json maps tensors to files, so readers never guess."""
    if len(name.encode()) <= 100 and os.sep not in name and name not in (".", ".."):
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"{name[:60].replace(os.sep, '_')}-{digest}"


def _np_float32(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().to(torch.float32).cpu().numpy().astype("<f4"))


def _check_out_dir(out_dir: str) -> None:
    # The nearest existing path at or above out_dir must be a folder (a file there is the
    # user's mistake, not an internal FileExistsError later).
    path = os.path.abspath(out_dir)
    while not os.path.lexists(path):
        path = os.path.dirname(path)
    if not os.path.isdir(path):
        raise ExportError(f"{path} is a file, not a folder: cannot write the bundle "
                          f"{out_dir} there")
    if os.path.lexists(out_dir):
        if os.path.islink(out_dir):
            raise ExportError(f"{out_dir} is a symbolic link, not a folder")
        if os.listdir(out_dir) and not os.path.isfile(os.path.join(out_dir, "model.json")):
            raise ExportError(f"{out_dir} exists and is not a model bundle (no model.json); "
                              f"refusing to replace it")


def _staging_parent(out_dir: str) -> str:
    """Where temporary folders go: beside out_dir (same file system, so renames are atomic), or
    in MLCALYX_EXPORT_STAGING, a folder there that mlcalyx removes even if this process is
    killed."""
    return os.environ.get("MLCALYX_EXPORT_STAGING") or os.path.dirname(os.path.abspath(out_dir))


def _replace_dir(tmp: str, out_dir: str) -> None:
    parent = _staging_parent(out_dir)
    if not os.path.lexists(out_dir):
        os.rename(tmp, out_dir)
        return
    old = tempfile.mkdtemp(prefix=f".{os.path.basename(out_dir)}.old-", dir=parent)
    os.rmdir(old)
    os.rename(out_dir, old)
    try:
        os.rename(tmp, out_dir)
    except BaseException:
        os.rename(old, out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def model_format(module) -> Format:
    """The format a model file asks for with ``MLCALYX_FORMAT = {"width": W, "frac": F}``
    (generated reproducers carry their format this way), else the default."""
    spec = getattr(module, "MLCALYX_FORMAT", None)
    if spec is None:
        return DEFAULT_FORMAT
    if not isinstance(spec, dict) or set(spec) - {"width", "frac"}:
        raise ExportError(f"MLCALYX_FORMAT must be a dict with keys 'width' and 'frac', "
                          f"got {spec!r}")
    try:
        return Format(signed=True, width=spec.get("width", DEFAULT_FORMAT.width),
                      frac=spec.get("frac", DEFAULT_FORMAT.frac))
    except numerics.NumericsError as e:
        raise ExportError(f"MLCALYX_FORMAT: {e}") from e


def export_model(model_path: str, out_dir: str, fmt: Optional[Format] = None,
                 calibrate: bool = False, overrides: Optional[Dict[str, Format]] = None,
                 record_ranges: bool = False) -> Summary:
    """Export ``model_path`` to the bundle directory ``out_dir`` (see module doc). ``fmt``
    overrides the model file's ``MLCALYX_FORMAT`` (default: Q8.8); ``calibrate`` picks each
    tensor group's integer bits from the float values seen on the example inputs (at fmt's
    width); ``overrides`` sets formats by tensor name; ``record_ranges`` (implied by the other
    two) writes each tensor's float range and saturation count into model.json."""
    model_path = os.path.abspath(model_path)
    basename = os.path.basename(model_path)
    stem = os.path.splitext(basename)[0]
    _check_out_dir(out_dir)

    module_name = "mlcalyx_model_" + re.sub(r"\W", "_", stem)
    saved_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # fixed reduction order for the float goldens
    try:
        with _model_import_context(model_path, module_name):
            module = load_model_module(model_path, module_name)
            if fmt is None:
                fmt = model_format(module)
            model, example_inputs = call_build(module, basename)
            model.eval()
            root_type = type(model).__name__

            with torch.no_grad():
                try:
                    float_out = model(*[t.clone() for t in example_inputs])
                except Exception as e:
                    raise ExportError(f"running the model on its example inputs failed: "
                                      f"{_describe_exc(e)}") from e
            float_leaves = pytree.tree_leaves(float_out)

            try:
                ep = torch.export.export(model, example_inputs)
            except Exception as e:
                raise ExportError(f"torch.export.export failed: {_describe_exc(e)}") from e
            if any(n.op == "call_function" and _is_mutating(n.target) for n in ep.graph.nodes):
                # In-place ops (nn.ReLU(inplace=True), `x += y`): functionalize so
                # every node is a pure function of its inputs.
                try:
                    ep = ep.run_decompositions({})
                except Exception as e:
                    raise ExportError(f"functionalizing in-place operations failed: "
                                      f"{_describe_exc(e)}") from e

            conv = Converter(ep, model_path, root_type, fmt)
            conv.run()
    finally:
        torch.set_num_threads(saved_threads)

    if not conv.nodes:
        raise ExportError("the model has no supported operations to compile")
    if len(float_leaves) != len(conv.outputs) or not all(
            isinstance(t, torch.Tensor) for t in float_leaves):
        raise ExportError(f"the model returns {len(float_leaves)} values but the exported graph "
                          f"has {len(conv.outputs)} tensor outputs")
    for name, t in zip(conv.outputs, float_leaves):
        if list(t.shape) != conv.shape[name]:
            raise ExportError(f"output '{name}': eager shape {list(t.shape)} differs from the "
                              f"exported shape {conv.shape[name]}")
    if len(example_inputs) != len(conv.input_names):
        raise ExportError(f"build() gave {len(example_inputs)} example inputs but the exported "
                          f"graph has {len(conv.input_names)} tensor inputs")

    used = {i for n in conv.nodes for i in n["inputs"]}
    weights = [w for w in conv.weight_order if w in used]
    record_ranges = record_ranges or calibrate or bool(overrides)
    names = [*conv.input_names, *weights, *conv.activation_order]
    floats = conv.float_values(example_inputs) if record_ranges else None
    try:
        formats = assign_formats(conv, names, fmt, floats if calibrate else None, overrides)
    except FormatError as e:
        raise ExportError(str(e)) from e
    for w in weights:
        if not conv.weight_values[w].is_floating_point():
            raise ExportError(f"weight '{w}' has dtype {conv.weight_values[w].dtype}; only "
                              f"floating-point weights are supported")
        bad = _first_non_finite(conv.weight_values[w])
        if bad is not None:
            raise ExportError(f"weight '{w}' holds {bad[1]} at flat index {bad[0]}; weights "
                              f"must be finite numbers")

    # ---- model.json ---------------------------------------------------
    stems = {n: _file_stem(n) for n in [*conv.input_names, *weights, *conv.outputs]}
    tensors = []
    for name in conv.input_names:
        tensors.append({"name": name, "role": "input", "shape": conv.shape[name],
                        "format": formats[name].to_json()})
    for name in weights:
        tensors.append({"name": name, "role": "weight", "shape": conv.shape[name],
                        "format": formats[name].to_json(), "file": f"weights/{stems[name]}.npy"})
    for name in conv.activation_order:
        tensors.append({"name": name, "role": conv.role[name], "shape": conv.shape[name],
                        "format": formats[name].to_json()})
    if record_ranges:
        # weights as written (folded; tables filled once formats were known)
        floats.update({w: conv.weight_array(w) for w in weights})
        calibration = formats_ranges({n: floats[n] for n in names}, formats)
    doc = {
        "schema": numerics.SCHEMA,
        "version": numerics.VERSION,
        "model": {"name": stem, "source": basename},
        "tensors": tensors,
        "nodes": conv.nodes,
        "inputs": conv.input_names,
        "outputs": conv.outputs,
        "golden": {
            "inputs": {n: {"fixed": f"golden/{stems[n]}.npy",
                           "float": f"golden/{stems[n]}.float.npy"}
                       for n in conv.input_names},
            "outputs": {n: {"fixed": f"golden/{stems[n]}.npy",
                            "float": f"golden/{stems[n]}.float.npy"}
                        for n in conv.outputs},
        },
    }
    if record_ranges:
        doc["calibration"] = calibration

    # ---- write into a temporary sibling, then rename ---------------------
    parent = os.path.dirname(os.path.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(os.path.abspath(out_dir))}.tmp-",
                           dir=_staging_parent(out_dir))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        with open(os.path.join(tmp, "model.json"), "w", encoding="utf-8", newline="\n") as f:
            f.write(_dump_json(doc) + "\n")
        for name in weights:
            f = formats[name]
            q = numerics.quantize(conv.weight_array(name), f)
            numerics.save_npy(os.path.join(tmp, "weights", f"{stems[name]}.npy"), numerics.to_storage(q, f))
        for name, t in zip(conv.input_names, example_inputs):
            x = t.detach().cpu()
            f = formats[name]
            q = numerics.quantize(x.double().numpy(), f)
            numerics.save_npy(os.path.join(tmp, "golden", f"{stems[name]}.npy"), numerics.to_storage(q, f))
            numerics.save_npy(os.path.join(tmp, "golden", f"{stems[name]}.float.npy"), _np_float32(x))
        # Fixed-point goldens: the reference interpreter on the files just written.
        try:
            fixed_out = numerics.run_bundle(tmp)
        except (numerics.NumericsError, numerics.BundleError) as e:
            raise ExportError(f"fixed-point reference failed: {e}") from e
        for name, t in zip(conv.outputs, float_leaves):
            numerics.save_npy(os.path.join(tmp, "golden", f"{stems[name]}.npy"),
                              numerics.to_storage(fixed_out[name], formats[name]))
            numerics.save_npy(os.path.join(tmp, "golden", f"{stems[name]}.float.npy"), _np_float32(t))
        _replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    return Summary(name=stem, nodes=len(conv.nodes), tensors=len(tensors), out_dir=out_dir,
                   aten_ops=conv.aten_ops)


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="export.py",
        description="Export a PyTorch model file (defining build()) to an mlcalyx model bundle.")
    p.add_argument("model", help="Python file defining build() -> (model, example_inputs)")
    p.add_argument("out_dir", help="bundle directory to write (replaced only on success)")
    p.add_argument("--width", type=int,
                   help="total bits of every tensor's fixed-point format (default: the model "
                        "file's MLCALYX_FORMAT, else 16)")
    p.add_argument("--frac", type=int,
                   help="fractional bits of every tensor's format (default: the model file's "
                        "MLCALYX_FORMAT, else 8)")
    p.add_argument("--precision", metavar="W,F",
                   help="the default format of every tensor: W bits, F fractional (same as "
                        "--width W --frac F)")
    p.add_argument("--calibrate", action="store_true",
                   help="per group of tensors that share a format, the fewest integer bits "
                        "(at the default width) that hold every float value seen on the "
                        "example inputs; per weight tensor, from its values")
    p.add_argument("--formats", metavar="FILE.json",
                   help='per-tensor formats, {"tensor": {"width": W, "frac": F}, ...} '
                        "(names as in model.json), applied after --calibrate")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks on errors")
    args = p.parse_args(argv)
    try:
        fmt = None
        if args.precision is not None:
            if args.width is not None or args.frac is not None:
                raise FormatError("--precision replaces --width and --frac; give one or the "
                                  "other")
            fmt = parse_precision(args.precision)
        elif args.width is not None or args.frac is not None:
            fmt = Format(signed=True,
                         width=DEFAULT_FORMAT.width if args.width is None else args.width,
                         frac=DEFAULT_FORMAT.frac if args.frac is None else args.frac)
        overrides = load_formats_file(args.formats) if args.formats is not None else None
    except (numerics.NumericsError, FormatError) as e:
        print(f"export: {e}", file=sys.stderr)
        return 1
    try:
        s = export_model(args.model, args.out_dir, fmt, calibrate=args.calibrate,
                         overrides=overrides, record_ranges=args.precision is not None)
    except Terminated as e:
        print(f"export: stopped by signal {e.signum}", file=sys.stderr)
        return 128 + e.signum
    except ExportError as e:
        if args.debug:
            traceback.print_exc()
        for line in str(e).splitlines():
            print(f"export: {line}", file=sys.stderr)
        return 1
    except Exception as e:
        if args.debug:
            traceback.print_exc()
        print(f"export: internal error: {_describe_exc(e)} (run with --debug for a traceback)",
              file=sys.stderr)
        return 1
    print(f"exported {s.name}: {s.nodes} nodes, {s.tensors} tensors -> {s.out_dir}")
    return 0


if __name__ == "__main__":
    # Only as a program: a job scheduler's SIGTERM unwinds the export and removes its temporary
    # bundle (Python's default would exit on the spot and leave it behind).
    for _signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(_signum, _raise_terminated)
    sys.exit(main())
