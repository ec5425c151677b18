"""The parameter file and the README table, written from a settings class (so they always agree with it)."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from spatialclaw_ros.settings._knob import Leaf, PerCamera, Section, walk

_WIDTH = 104
_INDENT = "  "
_FILE_HEADER = """\
# Parameters of the {node} node: every one it takes, with its default, unit and range.
# Generated from spatialclaw_ros/settings by scripts/parameter_docs.py: edit the settings, then run it.
# The node reads them when it configures, so all are read-only: set them here, in the launch file or
# on the command line.
"""


def parameter_file(kind: type, node: str, camera: str) -> str:
    """A ROS 2 parameter file (YAML) holding every knob of ``kind`` at its default, each under its doc.

    Per-camera knobs are written for the camera ``camera``; array knobs without a default are left
    as a commented example (a ROS parameter file cannot hold an empty list).
    """
    lines = [_FILE_HEADER.format(node=node).rstrip("\n"), "/**:", "  ros__parameters:"]
    _write_section(kind, lines, depth=2, camera=camera)
    return "\n".join(lines) + "\n"


def _write_section(kind: type, lines: list[str], depth: int, camera: str) -> None:
    indent = _INDENT * depth
    after_section = False
    for entry in walk(kind):
        if isinstance(entry, Leaf):
            if after_section:
                lines.append("")
                after_section = False
            lines.extend(_comment(_describe(entry), indent))
            if entry.default == ():
                lines.append(f"{indent}# {entry.field}: [x, y, z, qx, qy, qz, qw]")
            else:
                lines.append(f"{indent}{entry.field}: {_yaml(entry.default)}")
            continue
        lines.append("")
        after_section = True
        if isinstance(entry, Section):
            lines.extend(_comment(entry.doc, indent))
            lines.append(f"{indent}{entry.field}:")
            _write_section(entry.kind, lines, depth + 1, camera)
        elif isinstance(entry, PerCamera):
            lines.extend(_comment(f"{entry.doc} Written here for the camera {camera!r}.", indent))
            lines.append(f"{indent}{camera}:")
            _write_section(entry.kind, lines, depth + 1, camera)


def parameter_table(kind: type) -> str:
    """A markdown table of every knob of ``kind``: name, default, unit, range or choices, meaning."""
    rows = ["| parameter | default | unit | range or choices | meaning |", "| --- | --- | --- | --- | --- |"]
    for name, leaf in _named_leaves(kind, ""):
        default = "unset" if leaf.default == () else f"`{_yaml(leaf.default)}`"
        rows.append(
            f"| `{name}` | {default} | {leaf.knob.unit} | {leaf.knob.limits()} | {_cell(leaf.knob.doc)} |"
        )
    return "\n".join(rows) + "\n"


def _named_leaves(kind: type, prefix: str) -> list[tuple[str, Leaf]]:
    named: list[tuple[str, Leaf]] = []
    for entry in walk(kind, prefix):
        if isinstance(entry, Leaf):
            named.append((entry.name, entry))
        elif isinstance(entry, Section):
            named.extend(_named_leaves(entry.kind, entry.name + "."))
        elif isinstance(entry, PerCamera):
            named.extend(_named_leaves(entry.kind, prefix + "NAME."))
    return named


def _describe(leaf: Leaf) -> str:
    facts = [f"Unit: {leaf.knob.unit}."] if leaf.knob.unit else []
    if leaf.knob.limits() and not leaf.knob.choices:
        facts.append(f"Range: {leaf.knob.limits()}.")
    return " ".join([leaf.knob.doc, *facts])


def _comment(text: str, indent: str) -> list[str]:
    prefix = indent + "# "
    return textwrap.wrap(
        text,
        _WIDTH,
        initial_indent=prefix,
        subsequent_indent=prefix,
        break_on_hyphens=False,
        break_long_words=False,
    )


def _yaml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, tuple):
        return json.dumps(list(value))
    return json.dumps(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
