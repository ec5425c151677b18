"""config/agent.yaml documents every declared parameter with its default, and bad values are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rclpy.parameter import Parameter

from spatialclaw_ros.ros.parameters import (
    PARAMETERS,
    declare_parameters,
    read_parameters,
    validate_parameters,
)

from support.ros_spin import spinning_node

pytestmark = pytest.mark.ros

CONFIG = Path(__file__).resolve().parents[2] / "config" / "agent.yaml"


def flatten(tree: dict, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def test_agent_yaml_lists_every_parameter_with_its_default():
    documented = flatten(yaml.safe_load(CONFIG.read_text())["/**"]["ros__parameters"])
    declared = {spec.name: spec.default for spec in PARAMETERS}
    assert documented == declared


def test_agent_yaml_comments_every_parameter():
    lines = CONFIG.read_text().splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if ":" in stripped and not stripped.startswith("#") and not stripped.endswith(":"):
            assert lines[index - 1].strip().startswith("#"), (
                f"parameter line {index + 1} has no comment: {line}"
            )


def test_every_descriptor_has_a_description():
    for spec in PARAMETERS:
        assert spec.descriptor().description, spec.name


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"kernel.sandbox": "loose"}, "kernel.sandbox"),
        ({"cameras": []}, "at least one camera"),
        ({"cameras": ["front", "front"]}, "unique"),
        ({"cameras": ["/front"]}, "relative"),
        ({"llm.base_url": "localhost:8000"}, "http"),
    ],
)
def test_bad_values_are_refused_with_a_reason(values, fragment):
    assert fragment in validate_parameters(values)


def test_ranges_are_enforced_by_the_descriptors():
    with spinning_node("parameter_check") as node:
        declare_parameters(node)
        result = node.set_parameters([Parameter("agent.max_steps", value=0)])[0]
        assert not result.successful
        result = node.set_parameters([Parameter("agent.max_steps", value=30)])[0]
        assert result.successful
        assert read_parameters(node).max_steps == 30
        read_only = node.set_parameters([Parameter("kernel.sandbox", value="off")])[0]
        assert not read_only.successful
