"""Values between the grader and a student's kernel, as JSON: no pickle, no eval of answers.

The same source runs on both sides: the grader imports it, and the probe that runs in the
student's kernel embeds it (``PROBE_SOURCE``), so inputs and outputs are encoded one way.

- ``None``, ``bool``, ``int``, ``float`` (NaN and infinities included), ``str``: as themselves;
- ``list``, ``tuple``, ``dict`` with ``str`` keys: element by element (depth at most 8);
- numpy arrays and scalars of numeric or bool dtype: ``np.save`` bytes (``allow_pickle=False``),
  base64-encoded;
- :class:`Rng` (inputs only): a fresh ``np.random.default_rng(seed)`` in the kernel;
- :class:`Expr` (inputs only): a value the *grader* writes as source (``lambda v: ...``),
  evaluated in the kernel with numpy as ``np`` and its array bindings; the grader never
  evaluates anything that comes back;
- anything else that comes back is replaced by :class:`Unsupported` (its type name only).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Rng", "Expr", "Unsupported", "encode", "decode", "MAX_DEPTH"]

MAX_DEPTH = 8


@dataclass(frozen=True)
class Rng:
    """An argument that is ``np.random.default_rng(seed)``, made fresh in each process."""

    seed: int


@dataclass(frozen=True)
class Expr:
    """An argument the grader writes as Python source, e.g. ``lambda v: float(np.sum(v @ A))``."""

    source: str
    bindings: dict = field(default_factory=dict)

    def build(self):
        namespace = {"np": np, **{k: decode(encode(v)) for k, v in self.bindings.items()}}
        return eval(self.source, namespace)  # noqa: S307 - grader-written source only


@dataclass(frozen=True)
class Unsupported:
    """A value that could not travel: only its type's name did."""

    type_name: str


def _array(value) -> dict:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(value), allow_pickle=False)
    return {
        "ndarray": base64.b64encode(buffer.getvalue()).decode("ascii"),
        "scalar": not isinstance(value, np.ndarray),
    }


def encode(value, depth: int = 0):
    """``value`` as JSON-able data (see the module docstring)."""
    if depth > MAX_DEPTH:
        return {"unsupported": "nesting deeper than %d" % MAX_DEPTH}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, (np.ndarray, np.generic)):  # before float: np.float64 is a float
        if np.asarray(value).dtype.kind in "biufc":
            return _array(value)
        return {"unsupported": f"numpy array of dtype {np.asarray(value).dtype}"}
    if isinstance(value, float):
        return {"float": repr(float(value))}
    if isinstance(value, Rng):
        return {"rng": int(value.seed)}
    if isinstance(value, Expr):
        return {
            "expr": value.source,
            "bindings": {k: encode(v, depth + 1) for k, v in value.bindings.items()},
        }
    if isinstance(value, (list, tuple)):
        items = [encode(v, depth + 1) for v in value]
        return {"tuple": items} if isinstance(value, tuple) else {"list": items}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: encode(v, depth + 1) for k, v in value.items()}}
    return {"unsupported": type(value).__name__}


def decode(data, trusted: bool = False, depth: int = 0):
    """The value ``data`` encodes. ``Rng`` and ``Expr`` become live objects only if ``trusted``
    (in the kernel, where they come from the grader); the grader decodes with ``trusted=False``.
    """
    if depth > MAX_DEPTH + 1:
        return Unsupported("nesting too deep")
    if data is None or isinstance(data, (bool, int, str)):
        return data
    if isinstance(data, list):
        return Unsupported("bare list")
    if not isinstance(data, dict) or len(data) not in (1, 2):
        return Unsupported(type(data).__name__)
    if "float" in data:
        try:
            return float(data["float"])
        except (TypeError, ValueError):
            return Unsupported("float")
    if "ndarray" in data:
        try:
            raw = base64.b64decode(data["ndarray"], validate=True)
            array = np.load(io.BytesIO(raw), allow_pickle=False)
        except Exception:  # noqa: BLE001 - malformed data from the kernel
            return Unsupported("malformed array")
        return array[()] if data.get("scalar") else array
    if "tuple" in data or "list" in data:
        items = data.get("tuple", data.get("list"))
        if not isinstance(items, list):
            return Unsupported("sequence")
        values = [decode(v, trusted, depth + 1) for v in items]
        return tuple(values) if "tuple" in data else values
    if "dict" in data and isinstance(data["dict"], dict):
        return {str(k): decode(v, trusted, depth + 1) for k, v in data["dict"].items()}
    if "rng" in data:
        return np.random.default_rng(int(data["rng"])) if trusted else Rng(int(data["rng"]))
    if "expr" in data:
        if not trusted:
            return Unsupported("expression")
        bindings = {k: decode(v, trusted, depth + 1) for k, v in data["bindings"].items()}
        return eval(data["expr"], {"np": np, **bindings})  # noqa: S307 - from the grader
    if "unsupported" in data:
        return Unsupported(str(data["unsupported"])[:100])
    return Unsupported("unknown")
