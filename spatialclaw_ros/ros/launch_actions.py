"""The launch actions of the specs in :mod:`spatialclaw_ros.ros.launch_spec`, for the files in ``launch/``.

Importable only where ``launch`` and ``launch_ros`` are (ROS 2 installs; they are not on PyPI):
every decision is made in ``launch_spec``, this module only spells it as actions.
"""

from __future__ import annotations

from collections.abc import Iterable

from launch.actions import ExecuteProcess
from launch_ros.actions import Node

from spatialclaw_ros.ros.launch_spec import NodeSpec, ProcessSpec


def launch_actions(nodes: Iterable[NodeSpec], processes: Iterable[ProcessSpec] = ()) -> list:
    """``ExecuteProcess`` per process (started first), then ``launch_ros`` ``Node`` per node."""
    actions: list = [
        ExecuteProcess(
            cmd=list(spec.command),
            name=spec.name,
            respawn=spec.respawn,
            output="screen",
            env=dict(spec.env) if spec.env is not None else None,
        )
        for spec in processes
    ]
    actions += [
        Node(
            package=spec.package,
            executable=spec.executable,
            name=spec.name,
            namespace=spec.namespace,
            parameters=list(spec.parameters),
            remappings=list(spec.remappings),
            output=spec.output,
        )
        for spec in nodes
    ]
    return actions
