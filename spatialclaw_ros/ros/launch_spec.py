"""What launch/agent.launch.py starts, as plain data: testable without ``ros2 launch``.

The launch file only turns these specs into ``launch_ros.actions.Node`` actions; every decision (names,
parameter files, remappings) is made here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "spatialclaw_ros"


@dataclass(frozen=True)
class NodeSpec:
    """One node to launch: the arguments of ``launch_ros.actions.Node``."""

    executable: str
    name: str
    namespace: str
    parameters: tuple[str | Mapping[str, object], ...] = ()
    remappings: tuple[tuple[str, str], ...] = ()
    package: str = PACKAGE
    output: str = "screen"


def parse_remaps(text: str) -> tuple[tuple[str, str], ...]:
    """``"front/image_raw:=/cam0/color,front/camera_info:=/cam0/info"`` → remapping pairs.

    Raises ValueError naming the entry that is not ``FROM:=TO``.
    """
    pairs = []
    for entry in filter(None, (part.strip() for part in text.split(","))):
        source, separator, target = entry.partition(":=")
        if not separator or not source or not target:
            raise ValueError(f"camera remap {entry!r} is not of the form FROM:=TO")
        pairs.append((source, target))
    return tuple(pairs)


def agent_nodes(
    *,
    namespace: str,
    params_file: Path,
    use_sim_time: bool,
    camera_remaps: str = "",
    overrides: Mapping[str, object] | None = None,
) -> Sequence[NodeSpec]:
    """The nodes of agent.launch.py: the ``spatial_agent`` node with its parameters and remappings."""
    parameters: list[str | Mapping[str, object]] = [str(params_file), {"use_sim_time": use_sim_time}]
    if overrides:
        parameters.append(dict(overrides))
    return (
        NodeSpec(
            executable="spatial_agent",
            name="spatial_agent",
            namespace=namespace,
            parameters=tuple(parameters),
            remappings=parse_remaps(camera_remaps),
        ),
    )
