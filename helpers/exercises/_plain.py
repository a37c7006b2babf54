"""Plain data: what crosses between a student's process and the grader's.

A check judges what the student's function *returned*, and under autograding it does so in
another process (the grader's), which must never unpickle or call anything the student made.
So a result is first turned into plain data: numbers, strings, None, lists, tuples, dicts, and
numeric numpy arrays (saved as ``.npy`` without pickle). Anything else (a function, a
generator, an object of a class of the student's) becomes an :class:`Other`, which records
only its type name and a short repr, so a check can say what came instead of what it expected.

The same encoding carries a check's *inputs* into the student's process, with one more kind:
:class:`Build`, a recipe (a name and plain parameters) for an input that is not plain data,
such as a network or a PyTorch model; the check module that uses it knows how to build it.

In the notebook the round trip happens in memory (:func:`to_plain`); under autograding the
tree is written as JSON next to its arrays (:func:`write`, :func:`read`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Build", "Other", "PlainDataError", "TensorData", "decode", "describe", "encode",
           "read", "to_plain", "write"]

MAX_DEPTH = 24
MAX_ITEMS = 200_000          # entries in one list, tuple or dict
MAX_ELEMENTS = 20_000_000    # elements in all the arrays of one tree
MAX_TEXT = 4_000             # characters of a string (longer ones are cut, and say so)
MAX_INT_DIGITS = 4_000
NUMERIC_KINDS = "biufc"      # bool, signed and unsigned integers, floats, complex
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,120}$")


class PlainDataError(ValueError):
    """A tree that is not valid plain data (too large, too deep, or malformed)."""


@dataclass(frozen=True)
class Other:
    """A value that is not plain data: only its type and a short description cross."""

    type_name: str
    text: str

    def __repr__(self) -> str:
        return f"<{self.type_name}: {self.text}>" if self.text else f"<{self.type_name}>"


@dataclass(frozen=True)
class TensorData:
    """A PyTorch tensor, as data: its values (a numpy array), its torch dtype and grad flag."""

    array: np.ndarray
    dtype: str                # torch's name: "float32", "float64", "bfloat16", ...
    requires_grad: bool = False

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)


@dataclass(frozen=True)
class Build:
    """A recipe for an input that is not plain data: ``kind`` names a builder, ``params``
    are plain data. The check module that uses it registers the builder."""

    kind: str
    params: dict = field(default_factory=dict)


def _type_name(value) -> str:
    cls = type(value)
    module = getattr(cls, "__module__", "") or ""
    name = getattr(cls, "__qualname__", cls.__name__)
    return name if module in ("builtins", "__main__", "") else f"{module}.{name}"


def _short_repr(value) -> str:
    try:
        text = repr(value)
    except Exception:  # a hostile or broken __repr__ must not stop the check
        return ""
    text = " ".join(str(text).split())
    return text if len(text) <= 80 else text[:77] + "..."


def _is_tensor(value) -> bool:
    cls = type(value)
    return (getattr(cls, "__module__", "") or "").startswith("torch") and hasattr(value,
                                                                                   "detach")


class _Encoder:
    def __init__(self):
        self.arrays: list[np.ndarray] = []
        self.elements = 0

    def array(self, a: np.ndarray) -> int:
        self.elements += a.size
        if self.elements > MAX_ELEMENTS:
            raise PlainDataError(f"more than {MAX_ELEMENTS:,} array elements in one result")
        self.arrays.append(np.array(a, copy=True, order="C"))
        return len(self.arrays) - 1

    def tree(self, value, depth: int = 0) -> dict:
        if depth > MAX_DEPTH:
            return {"t": "other", "type": _type_name(value), "text": "nested too deeply"}
        if value is None:
            return {"t": "none"}
        if isinstance(value, Build):
            return {"t": "build", "kind": value.kind, "params": self.tree(value.params, depth + 1)}
        # Already plain (an observation written to the outbox): encoded as it was decoded.
        if isinstance(value, TensorData) and isinstance(value.array, np.ndarray):
            return {"t": "tensor", "a": self.array(value.array), "dtype": str(value.dtype)[:20],
                    "grad": bool(value.requires_grad)}
        if isinstance(value, Other):
            return {"t": "other", "type": str(value.type_name)[:120], "text": str(value.text)[:200]}
        if type(value) is bool:
            return {"t": "bool", "v": value}
        if type(value) is int:
            text = str(value) if abs(value) < 10 ** MAX_INT_DIGITS else None
            if text is None:
                return {"t": "other", "type": "int", "text": "an integer too large to record"}
            return {"t": "int", "v": text}
        if type(value) is float:
            return {"t": "float", "v": value.hex()}
        if type(value) is complex:
            return {"t": "complex", "re": value.real.hex(), "im": value.imag.hex()}
        if type(value) is str:
            return {"t": "str", "v": value[:MAX_TEXT], "cut": len(value) > MAX_TEXT}
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in NUMERIC_KINDS:
                return {"t": "other", "type": f"numpy.ndarray of dtype {value.dtype}",
                        "text": f"shape {value.shape}"}
            node = {"t": "ndarray", "a": self.array(value)}
            if type(value) is not np.ndarray:
                node["cls"] = _type_name(value)
            return node
        if isinstance(value, np.generic):
            if value.dtype.kind not in NUMERIC_KINDS:
                return {"t": "other", "type": _type_name(value), "text": _short_repr(value)}
            return {"t": "npscalar", "a": self.array(np.asarray(value))}
        if _is_tensor(value):
            return self.tensor(value)
        if type(value) in (list, tuple) or (isinstance(value, tuple)
                                             and hasattr(value, "_fields")):
            if len(value) > MAX_ITEMS:
                return {"t": "other", "type": _type_name(value), "text": f"{len(value)} items"}
            kind = "list" if isinstance(value, list) else "tuple"
            return {"t": kind, "v": [self.tree(v, depth + 1) for v in value]}
        if isinstance(value, dict):
            if len(value) > MAX_ITEMS:
                return {"t": "other", "type": _type_name(value), "text": f"{len(value)} items"}
            try:
                items = list(value.items())
            except Exception:
                return {"t": "other", "type": _type_name(value), "text": "unreadable items"}
            return {"t": "dict", "v": [[self.tree(k, depth + 1), self.tree(v, depth + 1)]
                                       for k, v in items]}
        return {"t": "other", "type": _type_name(value), "text": _short_repr(value)}

    def tensor(self, value) -> dict:
        try:
            dtype = str(value.dtype).removeprefix("torch.")
            t = value.detach().cpu()
            if dtype in ("bfloat16", "float16"):
                t = t.float()
            array = t.numpy()
            return {"t": "tensor", "a": self.array(array), "dtype": dtype,
                    "grad": bool(getattr(value, "requires_grad", False))}
        except PlainDataError:
            raise
        except Exception:
            return {"t": "other", "type": _type_name(value), "text": _short_repr(value)}


def encode(value: Any) -> tuple[dict, list[np.ndarray]]:
    """``value`` as a JSON-ready tree and the arrays it refers to (copies).

    Raises PlainDataError only when the arrays are too large to record; any value that is not
    plain data becomes an ``Other`` node.
    """
    encoder = _Encoder()
    return encoder.tree(value), encoder.arrays


def _float(text) -> float:
    if not isinstance(text, str):
        raise PlainDataError("a float must be written in hex")
    return float.fromhex(text)


def decode(tree: dict, arrays: list[np.ndarray]) -> Any:
    """The value of a tree from :func:`encode` (arrays as given: decode never copies them)."""
    def node(n, depth):
        if depth > MAX_DEPTH + 2 or not isinstance(n, dict):
            raise PlainDataError("malformed plain-data tree")
        t = n.get("t")
        if t == "none":
            return None
        if t == "bool":
            return bool(n["v"])
        if t == "int":
            text = n["v"]
            if not isinstance(text, str) or len(text) > MAX_INT_DIGITS + 1:
                raise PlainDataError("malformed integer")
            return int(text)
        if t == "float":
            return _float(n["v"])
        if t == "complex":
            return complex(_float(n["re"]), _float(n["im"]))
        if t == "str":
            text = n["v"]
            if not isinstance(text, str):
                raise PlainDataError("malformed string")
            return text[:MAX_TEXT]
        if t in ("ndarray", "npscalar", "tensor"):
            index = n["a"]
            if type(index) is not int or not 0 <= index < len(arrays):
                raise PlainDataError("array index out of range")
            a = arrays[index]
            if t == "npscalar":
                return a[()] if a.ndim == 0 else Other("numpy scalar", "malformed")
            if t == "tensor":
                return TensorData(a, str(n.get("dtype", "?"))[:20], bool(n.get("grad", False)))
            if "cls" in n:
                return Other(str(n["cls"])[:100], f"an array subclass of shape {a.shape}")
            return a
        if t in ("list", "tuple"):
            items = n["v"]
            if not isinstance(items, list) or len(items) > MAX_ITEMS:
                raise PlainDataError("malformed list")
            values = [node(v, depth + 1) for v in items]
            return values if t == "list" else tuple(values)
        if t == "dict":
            items = n["v"]
            if not isinstance(items, list) or len(items) > MAX_ITEMS:
                raise PlainDataError("malformed dict")
            out = {}
            for pair in items:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise PlainDataError("malformed dict item")
                key = node(pair[0], depth + 1)
                try:
                    out[key] = node(pair[1], depth + 1)
                except TypeError:  # an unhashable key (a list): say so, as a value
                    return Other("dict", "with a key that is a list or another unhashable value")
            return out
        if t == "build":
            kind = n.get("kind")
            if not isinstance(kind, str) or not _NAME.match(kind):
                raise PlainDataError("malformed build recipe")
            params = node(n["params"], depth + 1)
            if not isinstance(params, dict):
                raise PlainDataError("malformed build parameters")
            return Build(kind, params)
        if t == "other":
            return Other(str(n.get("type", "?"))[:120], str(n.get("text", ""))[:200])
        raise PlainDataError(f"unknown plain-data node {t!r:.20}")

    return node(tree, 0)


def to_plain(value: Any) -> Any:
    """``value`` after the round trip a grader sees: plain data, arrays copied, others named."""
    tree, arrays = encode(value)
    return decode(tree, arrays)


def write(folder: Path, name: str, value: Any) -> None:
    """Write ``value`` as ``name.json`` and ``name-<i>.npy`` files in ``folder`` (no pickle)."""
    if not _NAME.match(name):
        raise ValueError(f"not a safe file name: {name!r}")
    tree, arrays = encode(value)
    folder = Path(folder)
    for i, a in enumerate(arrays):
        np.save(folder / f"{name}-{i}.npy", a, allow_pickle=False)
    (folder / f"{name}.json").write_text(
        json.dumps({"tree": tree, "arrays": len(arrays)}, allow_nan=False), encoding="utf-8")


def read(folder: Path, name: str, *, max_bytes: int = 400_000_000) -> Any:
    """Read what :func:`write` wrote, treating it as untrusted: no pickle, numeric arrays only,
    sizes bounded; raises PlainDataError (or FileNotFoundError) on anything else."""
    if not _NAME.match(name):
        raise ValueError(f"not a safe file name: {name!r}")
    folder = Path(folder)
    path = folder / f"{name}.json"
    if path.is_symlink() or path.stat().st_size > 50_000_000:
        raise PlainDataError(f"{path.name} is a link or too large")
    head = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(head, dict) or not isinstance(head.get("arrays"), int):
        raise PlainDataError(f"{path.name} is not a plain-data file")
    arrays, total, elements = [], 0, 0
    for i in range(head["arrays"]):
        p = folder / f"{name}-{i}.npy"
        if p.is_symlink():
            raise PlainDataError(f"{p.name} is a link")
        total += p.stat().st_size
        if total > max_bytes:
            raise PlainDataError("the arrays are too large")
        a = np.load(p, allow_pickle=False)
        if not isinstance(a, np.ndarray) or a.dtype.kind not in NUMERIC_KINDS:
            raise PlainDataError(f"{p.name} is not a numeric array")
        elements += a.size
        if elements > MAX_ELEMENTS:
            raise PlainDataError("the arrays have too many elements")
        arrays.append(a)
    return decode(head["tree"], arrays)


def describe(value: Any) -> str:
    """A short description of a plain value for a message: its type, and shape or value."""
    if isinstance(value, Other):
        return f"{value.type_name} {value.text}".strip()
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, TensorData):
        return f"a torch tensor of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, np.generic):
        return f"a numpy {value.dtype} scalar {value!r}"
    if isinstance(value, (list, tuple, dict)):
        return f"a {type(value).__name__} of length {len(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"float {value}"
    return f"{type(value).__name__} {value!r:.60}"
