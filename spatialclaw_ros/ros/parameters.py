"""The node's parameters: declared from the settings tree, read back as :class:`NodeSettings`.

Every knob of :class:`spatialclaw_ros.settings.NodeSettings` becomes a read-only parameter whose
descriptor carries the knob's meaning, type, range and choices (rclpy enforces the ranges itself).
All are read when the node configures, so a later change would silently do nothing: set them at
start-up (parameter file, launch, command line). Per-camera parameters (``NAME.*``) are declared
once the camera names are known, at configure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.node import Node
from rclpy.parameter import Parameter

from spatialclaw_ros.settings import CameraSection, Leaf, NodeSettings, leaves, parse

_TYPES: dict[Any, Parameter.Type] = {
    bool: Parameter.Type.BOOL,
    int: Parameter.Type.INTEGER,
    float: Parameter.Type.DOUBLE,
    str: Parameter.Type.STRING,
    tuple[str, ...]: Parameter.Type.STRING_ARRAY,
    tuple[float, ...]: Parameter.Type.DOUBLE_ARRAY,
}


def descriptor(leaf: Leaf) -> ParameterDescriptor:
    """The ROS descriptor of one knob: its doc, type, range or choices, read-only."""
    knob = leaf.knob
    result = ParameterDescriptor(
        name=leaf.name,
        description=knob.doc + (f" Unit: {knob.unit}." if knob.unit else ""),
        read_only=True,
        # NAME.depth takes true/false as booleans as well as its words.
        dynamic_typing=knob.booleans_as_text,
    )
    if knob.minimum is not None and knob.maximum is not None:
        if leaf.kind is int:
            result.integer_range = [
                IntegerRange(from_value=int(knob.minimum), to_value=int(knob.maximum), step=1)
            ]
        elif leaf.kind is float:
            result.floating_point_range = [
                FloatingPointRange(from_value=float(knob.minimum), to_value=float(knob.maximum), step=0.0)
            ]
    if knob.choices:
        result.additional_constraints = "one of: " + ", ".join(knob.choices)
    return result


def declare_parameters(node: Node) -> None:
    """Declare every node-wide parameter (all but the per-camera ``NAME.*`` ones) on ``node``."""
    declare_knobs(node, leaves(NodeSettings))


def declare_camera_parameters(node: Node, cameras: Sequence[str]) -> None:
    """Declare the ``NAME.*`` parameters of each camera (idempotent: a reconfigure keeps them)."""
    declare_knobs(node, (leaf for name in cameras for leaf in leaves(CameraSection, f"{name}.")))


def read_settings(node: Node) -> NodeSettings:
    """The node's settings from its parameters, declaring the cameras' own parameters on the way.

    Raises:
        SettingsError: a value the settings refuse (the message names the parameter).
    """
    values = knob_values(node, leaves(NodeSettings))
    cameras = parse(NodeSettings, values).cameras
    declare_camera_parameters(node, cameras)
    values.update(knob_values(node, (leaf for name in cameras for leaf in leaves(CameraSection, f"{name}."))))
    return parse(NodeSettings, values)


def declare_knobs(node: Node, knobs: Iterable[Leaf]) -> None:
    """Declare each knob as a read-only parameter with its descriptor, unless already declared."""
    for leaf in knobs:
        if node.has_parameter(leaf.name):
            continue
        # An array without a default is declared by its type only (ROS cannot type an empty list).
        default = _TYPES[leaf.kind] if leaf.default == () else _ros_value(leaf.default)
        node.declare_parameter(leaf.name, default, descriptor(leaf))


def knob_values(node: Node, knobs: Iterable[Leaf]) -> dict[str, Any]:
    """The declared parameters' values by dotted name, ready for :func:`spatialclaw_ros.settings.parse`."""
    # get_parameter_or: an array declared by type only and never set reads as None (its default).
    return {leaf.name: node.get_parameter_or(leaf.name).value for leaf in knobs}


def _ros_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
