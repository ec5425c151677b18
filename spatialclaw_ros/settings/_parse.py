"""Settings from a flat mapping of dotted names (ROS parameters, or a flattened YAML file), checked once."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeVar

from spatialclaw_ros.settings._knob import Leaf, PerCamera, Section, SettingsError, walk

T = TypeVar("T")


def parse(kind: type[T], values: Mapping[str, Any], prefix: str = "") -> T:
    """A ``kind`` settings object from ``values`` (dotted name → value); absent or ``None``: the default.

    Per-camera sections are read for each name of the ``cameras`` knob beside them, from the
    names ``NAME.<knob>``. YAML's integers are taken where a float is wanted, lists where a tuple is.

    Raises:
        SettingsError: the first value of the wrong type, out of its range, not among its choices or
            refused by its check; the message names the setting.
    """
    fields: dict[str, Any] = {}
    for entry in walk(kind, prefix):
        if isinstance(entry, Leaf):
            fields[entry.field] = _leaf(entry, values.get(entry.name))
        elif isinstance(entry, Section):
            fields[entry.field] = parse(entry.kind, values, entry.name + ".")
        elif isinstance(entry, PerCamera):
            cameras = fields.get("cameras")
            if cameras is None:
                raise TypeError(f"{kind.__name__}: a per-camera section needs a 'cameras' knob before it")
            fields[entry.field] = {name: parse(entry.kind, values, f"{prefix}{name}.") for name in cameras}
    return kind(**fields)


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings (a YAML file's ``ros__parameters``) as one mapping of dotted names."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _leaf(leaf: Leaf, value: Any) -> Any:
    if value is None:
        return leaf.default
    converted = _convert(leaf, value)
    knob = leaf.knob
    if knob.choices and converted not in knob.choices:
        raise SettingsError(f"{leaf.name} must be one of {', '.join(knob.choices)}, not {value!r}")
    low = -math.inf if knob.minimum is None else knob.minimum
    high = math.inf if knob.maximum is None else knob.maximum
    if _is_number(converted) and not low <= converted <= high:
        raise SettingsError(f"{leaf.name} must be in [{knob.limits()}], not {value!r}")
    problem = knob.check(converted) if knob.check is not None else None
    if problem:
        raise SettingsError(f"{leaf.name}: {problem}")
    return converted


def _convert(leaf: Leaf, value: Any) -> Any:
    """``value`` as the knob's type, or a SettingsError naming the knob."""
    kind = leaf.kind
    if kind is bool and isinstance(value, bool):
        return value
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is float and _is_number(value):
        if not math.isfinite(value):
            raise SettingsError(f"{leaf.name} must be a finite number, not {value!r}")
        return float(value)
    if kind is str:
        if isinstance(value, bool) and leaf.knob.booleans_as_text:
            return "true" if value else "false"
        if isinstance(value, str):
            return value.strip().lower() if leaf.knob.booleans_as_text else value
    if kind == tuple[str, ...] and _is_sequence(value) and all(isinstance(item, str) for item in value):
        return tuple(value)
    if kind == tuple[float, ...] and _is_sequence(value) and all(_is_number(item) for item in value):
        return tuple(float(item) for item in value)
    raise SettingsError(f"{leaf.name} must be {_type_name(kind)}, not {value!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple)) or type(value).__name__ in ("array", "ndarray")


def _type_name(kind: Any) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    if kind in names:
        return names[kind]
    return "a list of strings" if kind == tuple[str, ...] else "a list of numbers"
