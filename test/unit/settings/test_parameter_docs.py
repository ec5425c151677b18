"""config/agent.yaml and the README's parameter table are what the settings tree writes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml

from spatialclaw_ros.settings import CameraSection, NodeSettings, flatten, leaves, parse

ROOT = Path(__file__).resolve().parents[3]


def _generator():
    spec = importlib.util.spec_from_file_location("parameter_docs", ROOT / "scripts" / "parameter_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_agent_yaml_is_the_generated_file():
    assert (ROOT / "config" / "agent.yaml").read_text() == _generator().expected_parameter_file(), (
        "config/agent.yaml differs from the settings tree: run scripts/parameter_docs.py"
    )


def test_readme_table_is_the_generated_table():
    readme = (ROOT / "README.md").read_text()
    assert readme == _generator().expected_readme(readme), (
        "the README's parameter table differs from the settings tree: run scripts/parameter_docs.py"
    )


def test_agent_yaml_holds_every_parameter_at_its_default():
    documented = flatten(
        yaml.safe_load((ROOT / "config" / "agent.yaml").read_text())["/**"]["ros__parameters"]
    )
    declared = {leaf.name: leaf.default for leaf in leaves(NodeSettings)}
    declared |= {leaf.name: leaf.default for leaf in leaves(CameraSection, "camera.") if leaf.default != ()}
    assert {name: tuple(v) if isinstance(v, list) else v for name, v in documented.items()} == declared
    assert parse(NodeSettings, documented) == NodeSettings()


def test_agent_yaml_comments_every_parameter():
    lines = (ROOT / "config" / "agent.yaml").read_text().splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if ":" in stripped and not stripped.startswith("#") and not stripped.endswith(":"):
            assert lines[index - 1].strip().startswith("#"), (
                f"parameter line {index + 1} has no comment: {line}"
            )


def test_readme_table_names_every_parameter_with_its_range():
    readme = (ROOT / "README.md").read_text()
    for leaf in [*leaves(NodeSettings), *leaves(CameraSection, "NAME.")]:
        row = next((line for line in readme.splitlines() if line.startswith(f"| `{leaf.name}` |")), None)
        assert row is not None, leaf.name
        assert leaf.knob.limits() in row and leaf.knob.doc in row.replace("\\|", "|")
