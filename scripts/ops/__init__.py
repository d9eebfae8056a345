"""One module per op: its ATen matcher (used by export.py's converter) and its NumPy fixed-point
reference (used by numerics.py's interpreter). Adding an op is a module here, listed below.

Each module defines ``REFERENCES`` (bundle op -> ``evaluate(node, values, formats)``),
``MATCHERS`` (ATen op, e.g. ``aten::conv2d``, or ``operator.getitem`` -> ``convert(cv, node)``)
and may define ``LIMITS`` (bundle op -> ``fn(node, formats)`` giving ``(tensor, max frac)``
pairs the format choice must respect).
"""

from __future__ import annotations

from ops import (add, alias, avgpool, batchnorm, clamp, conv, flatten, linear, lut, maxpool,
                 prelu, relu, softmax, threshold)

MODULES = (linear, relu, add, flatten, alias, conv, maxpool, avgpool, batchnorm, clamp,
           threshold, prelu, lut, softmax)

REFERENCES = {}
MATCHERS = {}
LIMITS = {}
for _m in MODULES:
    for _table, _entries in ((REFERENCES, _m.REFERENCES), (MATCHERS, _m.MATCHERS),
                             (LIMITS, getattr(_m, "LIMITS", {}))):
        for _key, _fn in _entries.items():
            assert _key not in _table, f"{_key} registered twice"
            _table[_key] = _fn

#: the bundle ops the reference interpreter evaluates
OPS = tuple(REFERENCES)
