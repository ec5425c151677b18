"""One setting ("knob"): its default, unit, range, choices and meaning, kept on a dataclass field.

A settings section is a frozen dataclass whose fields are made with :func:`knob` (a leaf value) or
:func:`section` (a nested section, or one section per camera). Everything that needs to know the
settings — the parser, the ROS parameter declarations, the parameter file and the README table —
walks the same fields with :func:`walk`, so a new setting is one field.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

_KNOB = "spatialclaw.knob"
_SECTION = "spatialclaw.section"
_PER_CAMERA = "spatialclaw.per_camera"

# The leaf types a knob may have: what a ROS parameter and a YAML file can both hold.
LEAF_TYPES = (bool, int, float, str, tuple[str, ...], tuple[float, ...])


class SettingsError(ValueError):
    """A value that cannot be used; the message names the setting and says what is allowed."""


@dataclass(frozen=True)
class Knob:
    """What one setting means and which values it takes.

    Attributes:
        doc: its meaning, one or more sentences (the parameter description, the YAML comment, the
            README's column).
        unit: unit of a number (``s``, ``Hz``, ``MiB``, ``px``), empty for none.
        minimum, maximum: closed range of a number; ``None``: unbounded on that side.
        choices: the allowed values of a string; empty: any string.
        check: a further rule on the parsed value; returns why a value is refused, ``None`` when fine.
        booleans_as_text: a string knob that also takes ``true``/``false`` as YAML booleans
            (``NAME.depth``): they become ``"true"``/``"false"``; declared with dynamic typing in ROS.
    """

    doc: str
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    check: Callable[[Any], str | None] | None = None
    booleans_as_text: bool = False

    def limits(self) -> str:
        """The range or the choices as text (``1 to 100``, ``strict, off``), empty when free."""
        if self.choices:
            return ", ".join(self.choices)
        if self.minimum is None and self.maximum is None:
            return ""
        low = "" if self.minimum is None else _number(self.minimum)
        high = "" if self.maximum is None else _number(self.maximum)
        return f"{low} to {high}".strip()


def _number(value: float) -> str:
    """``120``, ``0.01``, ``1000000``: whole numbers without a decimal point or an exponent."""
    return str(int(value)) if float(value).is_integer() else repr(value)


def knob(
    default: Any,
    doc: str,
    *,
    unit: str = "",
    range: tuple[float, float] | None = None,
    choices: tuple[str, ...] = (),
    check: Callable[[Any], str | None] | None = None,
    booleans_as_text: bool = False,
) -> Any:
    """A dataclass field holding one setting (see :class:`Knob`); ``range`` is (minimum, maximum)."""
    minimum, maximum = range if range is not None else (None, None)
    meta = Knob(doc, unit, minimum, maximum, choices, check, booleans_as_text)
    return dataclasses.field(default=default, metadata={_KNOB: meta})


def section(kind: type, doc: str) -> Any:
    """A dataclass field holding a nested section of settings, all at their defaults."""
    return dataclasses.field(default_factory=kind, metadata={_SECTION: doc})


def per_camera(kind: type, doc: str) -> Any:
    """A field holding one ``kind`` section per camera name (parameters ``NAME.<knob>``)."""
    return dataclasses.field(default_factory=dict, metadata={_PER_CAMERA: (kind, doc)})


@dataclass(frozen=True)
class Leaf:
    """One knob found by :func:`walk`: its dotted name, its field's type and default."""

    name: str
    field: str
    kind: Any
    default: Any
    knob: Knob


@dataclass(frozen=True)
class Section:
    """One nested section found by :func:`walk`: its dotted name, class and doc."""

    name: str
    field: str
    kind: type
    doc: str


@dataclass(frozen=True)
class PerCamera:
    """A per-camera section found by :func:`walk`: the section's class and doc."""

    field: str
    kind: type
    doc: str


Entry = Leaf | Section | PerCamera


def walk(kind: type, prefix: str = "") -> Iterator[Entry]:
    """The fields of a settings class in declaration order, each knob with its dotted name.

    Nested sections are yielded (as :class:`Section`) but not entered: call ``walk`` on them with
    ``prefix=section.name + "."``.
    """
    hints = typing.get_type_hints(kind)
    for item in dataclasses.fields(kind):
        name = prefix + item.name
        if _KNOB in item.metadata:
            yield Leaf(name, item.name, hints[item.name], item.default, item.metadata[_KNOB])
        elif _SECTION in item.metadata:
            yield Section(name, item.name, hints[item.name], item.metadata[_SECTION])
        elif _PER_CAMERA in item.metadata:
            section_kind, doc = item.metadata[_PER_CAMERA]
            yield PerCamera(item.name, section_kind, doc)
        else:
            raise TypeError(f"{kind.__name__}.{item.name} is neither a knob nor a section")


def leaves(kind: type, prefix: str = "") -> Iterator[Leaf]:
    """Every knob of a settings class and of its nested sections (not the per-camera ones)."""
    for entry in walk(kind, prefix):
        if isinstance(entry, Leaf):
            yield entry
        elif isinstance(entry, Section):
            yield from leaves(entry.kind, entry.name + ".")
