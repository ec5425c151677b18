"""The node declares every knob of the settings tree, with its range and choices, and reads them back."""

from __future__ import annotations

import pytest
import rclpy
from rclpy.context import Context
from rclpy.exceptions import InvalidParameterValueException
from rclpy.parameter import Parameter

from spatialclaw_ros.ros.parameters import declare_parameters, read_settings
from spatialclaw_ros.settings import CameraSection, NodeSettings, SettingsError, leaves

pytestmark = pytest.mark.ros


@pytest.fixture
def make_node():
    context = Context()
    rclpy.init(context=context)
    nodes = []

    def make(**overrides):
        node = rclpy.create_node(
            "parameter_check",
            context=context,
            parameter_overrides=[Parameter(name, value=value) for name, value in overrides.items()],
        )
        nodes.append(node)
        return node

    yield make
    for node in nodes:
        node.destroy_node()
    rclpy.shutdown(context=context)


def test_declarations_are_the_settings_tree(make_node):
    node = make_node(cameras=["front"])
    declare_parameters(node)
    read_settings(node)
    expected = {leaf.name: leaf for leaf in leaves(NodeSettings)}
    expected |= {leaf.name: leaf for leaf in leaves(CameraSection, "front.")}
    declared = {
        name
        for name in node.list_parameters([], 0).names
        if name not in ("use_sim_time", "start_type_description_service")
    }
    assert declared == set(expected)
    for name, leaf in expected.items():
        descriptor = node.describe_parameter(name)
        assert descriptor.read_only and descriptor.description.startswith(leaf.knob.doc), name
        if leaf.knob.choices:
            assert descriptor.additional_constraints == "one of: " + ", ".join(leaf.knob.choices)
        if leaf.knob.minimum is not None and leaf.kind is int:
            (declared_range,) = descriptor.integer_range
            assert (declared_range.from_value, declared_range.to_value) == (
                leaf.knob.minimum,
                leaf.knob.maximum,
            )


def test_ranges_are_enforced_by_the_descriptors(make_node):
    with pytest.raises(InvalidParameterValueException):
        declare_parameters(make_node(**{"agent.max_steps": 0}))
    node = make_node(**{"agent.max_steps": 30})
    declare_parameters(node)
    assert read_settings(node).agent.max_steps == 30
    changed = node.set_parameters([Parameter("agent.max_steps", value=20)])[0]
    assert not changed.successful, "parameters are read at configure: changing one later is refused"


def test_per_camera_parameters_are_declared_and_read_at_configure(make_node):
    node = make_node(
        cameras=["front", "rear"],
        **{
            "front.depth": False,
            "rear.depth": "true",
            "rear.T_color_depth": [0.0, 0.0, 0.1, 0.0, 0.0, 0.0, 1.0],
        },
    )
    declare_parameters(node)
    assert not node.has_parameter("front.depth")
    settings = read_settings(node)
    assert settings.camera["front"].depth == "false" and settings.camera["rear"].depth == "true"
    assert settings.camera["rear"].T_color_depth[2] == 0.1 and settings.camera["front"].T_color_depth == ()


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"kernel.sandbox": "loose"}, "kernel.sandbox must be one of"),
        ({"cameras": ["front", "front"]}, "unique"),
        ({"front.depth": "sometimes"}, "front.depth must be one of auto, true, false"),
    ],
)
def test_bad_values_fail_reading_with_the_parameter_named(make_node, overrides, fragment):
    node = make_node(**{"cameras": ["front"], **overrides})
    declare_parameters(node)
    with pytest.raises(SettingsError, match=fragment):
        read_settings(node)
