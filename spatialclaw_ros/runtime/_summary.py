"""One-line summaries of the variables a cell created or changed (type, shape, dtype, length, ranges).

Changes are found by comparing a cheap fingerprint of every public name before and after a cell:
the object's identity, plus the shape, dtype and (for arrays up to 100 000 elements) a hash of the
contents, so in-place edits of small arrays show up too.
"""

from __future__ import annotations

import hashlib
import types
from collections.abc import Mapping
from typing import Any

import numpy as np

MAX_REPR_CHARS = 160
HASHED_ARRAY_ELEMENTS = 100_000


def fingerprint(value: Any) -> tuple[Any, ...]:
    """A cheap value that changes when the variable is rebound or (for small arrays/containers) edited."""
    if isinstance(value, np.ndarray):
        digest = ""
        if value.size <= HASHED_ARRAY_ELEMENTS and value.dtype != object:
            digest = hashlib.blake2b(np.ascontiguousarray(value).tobytes(), digest_size=8).hexdigest()
        return (id(value), value.shape, value.dtype.str, digest)
    if isinstance(value, (list, dict, set)):
        return (id(value), len(value))
    return (id(value),)


def public_names(namespace: Mapping[str, Any]) -> dict[str, tuple[Any, ...]]:
    """Fingerprints of every name a model would call its own (no leading underscore, no modules)."""
    return {
        name: fingerprint(value)
        for name, value in list(namespace.items())
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }


def changed_names(
    before: Mapping[str, tuple[Any, ...]], after: Mapping[str, tuple[Any, ...]]
) -> tuple[list[str], list[str]]:
    """Names that are new, and names whose fingerprint changed, in namespace order."""
    new = [name for name in after if name not in before]
    changed = [name for name in after if name in before and before[name] != after[name]]
    return new, changed


def summarize(value: Any) -> str:
    """One line: type, shape, dtype, length and value range, never more than a few hundred characters."""
    try:
        return _summarize(value)
    except Exception as error:  # a user object whose repr or len raises must not break the step report
        return f"{type(value).__name__} (no summary: {type(error).__name__})"


def _summarize(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return _array_summary(value)
    if isinstance(value, np.generic):
        return f"{type(value).__name__} {_short(repr(value.item()))}"
    if isinstance(value, (bool, int, float, complex, type(None))):
        return f"{type(value).__name__} {_short(repr(value))}"
    if isinstance(value, str):
        return f"str len {len(value)} {_short(repr(value))}"
    if isinstance(value, dict):
        keys = ", ".join(_short(repr(key), 30) for key in list(value)[:6])
        more = ", ..." if len(value) > 6 else ""
        return f"dict len {len(value)} keys [{keys}{more}]"
    if isinstance(value, (list, tuple, set, frozenset)):
        return _collection_summary(value)
    if isinstance(value, types.FunctionType):
        return f"function {value.__name__}{_signature(value)}"
    if isinstance(value, type):
        return f"class {value.__name__}"
    return f"{type(value).__name__} {_short(repr(value))}"


def _array_summary(array: np.ndarray) -> str:
    head = f"ndarray {array.dtype} shape {array.shape}"
    if array.size == 0:
        return f"{head} empty"
    if array.dtype == np.bool_:
        count = int(array.sum())
        return f"{head} true {count} ({100.0 * count / array.size:.1f}%)"
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        return head
    if array.size <= 6:
        return f"{head} {_short(np.array2string(array, precision=4, separator=', '))}"
    values = array.astype(np.float64, copy=False)
    finite = np.isfinite(values)
    count = int(finite.sum())
    if count == 0:
        return f"{head} no finite values"
    valid = values[finite] if count < array.size else values
    text = f"{head} min {valid.min():.4g} max {valid.max():.4g} mean {valid.mean():.4g}"
    if count < array.size:
        text += f" non-finite {array.size - count}"
    return text


def _collection_summary(value: list[Any] | tuple[Any, ...] | set[Any] | frozenset[Any]) -> str:
    head = f"{type(value).__name__} len {len(value)}"
    items = list(value)[:4] if not isinstance(value, (set, frozenset)) else []
    if not items:
        return head
    if all(isinstance(item, (bool, int, float, str)) for item in items) and len(value) <= 8:
        return f"{head} {_short(repr(value))}"
    kinds = ", ".join(_item_kind(item) for item in items)
    more = ", ..." if len(value) > len(items) else ""
    return f"{head} [{kinds}{more}]"


def _item_kind(item: Any) -> str:
    if isinstance(item, np.ndarray):
        return f"ndarray{item.shape}"
    if isinstance(item, (bool, int, float)):
        return _short(repr(item), 20)
    return type(item).__name__


def _signature(function: types.FunctionType) -> str:
    code = function.__code__
    return "(" + ", ".join(code.co_varnames[: code.co_argcount]) + ")"


def _short(text: str, limit: int = MAX_REPR_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
