"""config/agent.yaml documents every declared parameter with its default, and bad values are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import rclpy
import yaml
from rclpy.context import Context
from rclpy.exceptions import InvalidParameterValueException
from rclpy.parameter import Parameter

from spatialclaw_ros.ros.parameters import (
    PARAMETERS,
    declare_parameters,
    read_parameters,
    validate_parameters,
)

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
    context = Context()
    rclpy.init(context=context)
    try:
        node = rclpy.create_node(
            "parameter_check", context=context, parameter_overrides=[Parameter("agent.max_steps", value=0)]
        )
        with pytest.raises(InvalidParameterValueException):
            declare_parameters(node)
        node.destroy_node()
        node = rclpy.create_node(
            "parameter_check", context=context, parameter_overrides=[Parameter("agent.max_steps", value=30)]
        )
        declare_parameters(node)
        assert read_parameters(node).max_steps == 30
        changed = node.set_parameters([Parameter("agent.max_steps", value=20)])[0]
        assert not changed.successful, "parameters are read at configure: changing one later is refused"
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
