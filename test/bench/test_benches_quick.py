"""Every bench runs in ``--quick`` mode and prints its JSON line with every field its docstring documents.

A bench documents its output in its module docstring: a line starting ``JSON fields`` and below it one
``- ``path``: unit, meaning`` item per field. ``a.b`` is key ``b`` of the object at ``a``; ``a[].b`` is key
``b`` of every element of the non-empty list at ``a``. The figures themselves are not checked.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from support.ros_domain import own_domain_id

REPO = Path(__file__).resolve().parents[2]
_FIELD = re.compile(r"^- ``([^`]+)``")
_ROS = (pytest.mark.ros, pytest.mark.slow)
_SANDBOX = (pytest.mark.sandbox, pytest.mark.slow)
BENCHES = [
    pytest.param("executor", marks=_ROS),
    pytest.param("ingest", marks=_ROS),
    pytest.param("kernel", marks=_SANDBOX),
    pytest.param("query_overhead", marks=_SANDBOX),
    pytest.param("hostile", marks=_SANDBOX),
    pytest.param("perception", marks=pytest.mark.slow),
    pytest.param("sim_render", marks=pytest.mark.slow),
]


def documented_fields(script: Path) -> list[str]:
    """The field paths listed under the ``JSON fields`` line of the script's module docstring."""
    docstring = ast.get_docstring(ast.parse(script.read_text())) or ""
    lines = docstring.splitlines()
    start = next((k for k, line in enumerate(lines) if line.startswith("JSON fields")), None)
    if start is None:
        return []
    fields = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        match = _FIELD.match(line)
        if match:
            fields.append(match.group(1))
    return fields


def missing(figures: Any, path: str) -> list[str]:
    """The places where ``path`` is absent from ``figures`` (empty when present everywhere)."""
    head, _, rest = path.partition(".")
    is_list = head.endswith("[]")
    key = head.removesuffix("[]")
    if not isinstance(figures, dict) or key not in figures:
        return [path]
    value = figures[key]
    if is_list:
        if not isinstance(value, list) or not value:
            return [f"{key}[] (not a non-empty list)"]
        if not rest:
            return []
        return [f"{key}[{k}].{gap}" for k, item in enumerate(value) for gap in missing(item, rest)]
    return [f"{key}.{gap}" for gap in missing(value, rest)] if rest else []


def run_quick(name: str) -> dict[str, Any]:
    """Run ``bench/NAME.py --quick`` in the project's environment on a ROS domain of its own."""
    with own_domain_id() as domain_id:
        completed = subprocess.run(
            [str(REPO / "scripts" / "env.sh"), "python", f"bench/{name}.py", "--quick"],
            cwd=REPO,
            env=dict(os.environ, ROS_DOMAIN_ID=str(domain_id)),
            capture_output=True,
            text=True,
            timeout=240,
        )
    assert completed.returncode == 0, f"bench/{name}.py --quick failed:\n{completed.stderr[-4000:]}"
    lines = completed.stdout.strip().splitlines()
    assert lines, f"bench/{name}.py printed nothing:\n{completed.stderr[-4000:]}"
    return json.loads(lines[-1])


@pytest.mark.parametrize("name", BENCHES)
def test_quick_run_prints_every_documented_field(name: str) -> None:
    fields = documented_fields(REPO / "bench" / f"{name}.py")
    assert fields, f"bench/{name}.py documents no JSON fields (a 'JSON fields' list in its docstring)"
    if name == "perception":
        pytest.importorskip("torch", reason="the perception bench needs scripts/setup_perception.sh")
    figures = run_quick(name)
    absent = [gap for field in fields for gap in missing(figures, field)]
    assert not absent, f"bench/{name}.py --quick left out documented fields: {absent}"
