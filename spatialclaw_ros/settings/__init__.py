"""Typed settings: each knob a frozen dataclass field with its default, unit, range and meaning.

The node's parameters are :class:`NodeSettings`, parsed once from a flat mapping of dotted names
(ROS parameters or a flattened YAML file) by :func:`parse`. The ROS declarations, ``config/agent.yaml``
and the README's parameter table all come from the same fields (:func:`walk`, :func:`leaves`,
:func:`parameter_file`, :func:`parameter_table`). This room imports nothing else of the package.
"""

from spatialclaw_ros.settings._knob import (
    Knob,
    Leaf,
    PerCamera,
    Section,
    SettingsError,
    knob,
    leaves,
    per_camera,
    section,
    walk,
)
from spatialclaw_ros.settings._node import (
    DEPTH_BACKENDS,
    DEPTH_MODES,
    POSE_SOURCES,
    POSE_TYPES,
    RECONSTRUCTORS,
    SANDBOX_MODES,
    SEGMENTERS,
    AgentSection,
    BufferSection,
    CameraSection,
    KernelSection,
    LLMSection,
    NodeSettings,
    OutputSection,
    PerceptionSection,
    PoseSection,
    TraceSection,
)
from spatialclaw_ros.settings._parse import flatten, parse
from spatialclaw_ros.settings._render import parameter_file, parameter_table

__all__ = [
    "DEPTH_BACKENDS",
    "DEPTH_MODES",
    "POSE_SOURCES",
    "POSE_TYPES",
    "RECONSTRUCTORS",
    "SANDBOX_MODES",
    "SEGMENTERS",
    "AgentSection",
    "BufferSection",
    "CameraSection",
    "KernelSection",
    "Knob",
    "LLMSection",
    "Leaf",
    "NodeSettings",
    "OutputSection",
    "PerCamera",
    "PerceptionSection",
    "PoseSection",
    "Section",
    "SettingsError",
    "TraceSection",
    "flatten",
    "knob",
    "leaves",
    "parameter_file",
    "parameter_table",
    "parse",
    "per_camera",
    "section",
    "walk",
]
