"""Value-preserving ATen ops that become no node: aliases and copies, same-dtype casts,
eval-mode dropout, element 0 of a multi-output op (getitem) and shape assertions."""

from __future__ import annotations

from ops.common import Unsupported, arg


def alias(cv, node):
    cv.alias(node, node.args[0])


def dropout(cv, node):
    p = arg(node, 1, "p", 0.5)
    train = arg(node, 2, "train", False)
    if train and p != 0:
        raise Unsupported("dropout in training mode")
    cv.alias(node, node.args[0])


def cast(cv, node):
    src = node.args[0]
    v_in = cv.value(src) if cv.is_node(src) else None
    v_out = cv.value(node)
    if (v_in is not None and v_out is not None and v_in.dtype == v_out.dtype
            and v_in.device == v_out.device):
        return cv.alias(node, src)
    raise Unsupported(f"conversion to {getattr(v_out, 'dtype', '?')}")


def getitem(cv, node):
    """Element 0 of a multi-output op (batch norm's output, max pooling's values) is that op's
    tensor; other elements (saved statistics, pooling indices) have no tensor, and a node that
    reads one fails as reading an unsupported value."""
    src, index = node.args[0], node.args[1]
    if index == 0 and cv.is_node(src) and cv.is_multi_output(src):
        return cv.alias(node, src)
    if index != 0 and cv.is_node(src) and cv.is_multi_output(src):
        return None
    raise Unsupported(f"indexing element {index!r} of {src}")


def ignore(cv, node):
    return None


ALIAS_OPS = ("aten::detach", "aten::alias", "aten::clone", "aten::contiguous",
             "aten::lift_fresh", "aten::lift_fresh_copy", "aten::detach_")
DROPOUT_OPS = ("aten::dropout", "aten::feature_dropout", "aten::alpha_dropout",
               "aten::feature_alpha_dropout")
CAST_OPS = ("aten::to", "aten::_to_copy", "aten::type_as")

REFERENCES: dict = {}
MATCHERS = {
    **{op: alias for op in ALIAS_OPS},
    **{op: dropout for op in DROPOUT_OPS},
    **{op: cast for op in CAST_OPS},
    "operator.getitem": getitem,
}
