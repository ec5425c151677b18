"""What launch/agent.launch.py starts, as plain data: testable without ``ros2 launch``.

The launch file only turns these specs into ``launch_ros.actions.Node`` actions; every decision (names,
parameter files, remappings) is made here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "spatialclaw_ros"
DEFAULT_PERCEPTION_SOCKET = "/tmp/spatialclaw/perception.sock"


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


@dataclass(frozen=True)
class ProcessSpec:
    """A plain process to launch: the arguments of ``launch.actions.ExecuteProcess``."""

    name: str
    command: tuple[str, ...]
    respawn: bool = False


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
    start_perception: bool = False,
    perception_socket: str = DEFAULT_PERCEPTION_SOCKET,
    perception_settings: str = "{}",
    vllm_model: str = "",
    vllm_port: int = 8000,
) -> tuple[Sequence[NodeSpec], Sequence[ProcessSpec]]:
    """The nodes and processes of agent.launch.py.

    Args:
        namespace: namespace of the ``spatial_agent`` node.
        params_file: its parameter file (config/agent.yaml by default).
        use_sim_time: follow ``/clock``.
        camera_remaps: ``"FROM:=TO,..."`` remappings of the camera topics.
        overrides: parameters set after the file (last wins).
        start_perception: start the perception service as its own process (respawned if it dies) and
            point the node at it; otherwise the node starts its own.
        perception_socket: absolute path of that service's Unix socket.
        perception_settings: that service's ``PerceptionSettings`` as JSON.
        vllm_model: non-empty: also start ``vllm serve vllm_model`` and point the node at it.
        vllm_port: the port vLLM listens on, on 127.0.0.1.

    Raises:
        ValueError: a malformed remap, or a perception socket path that is not absolute.
    """
    parameters: list[str | Mapping[str, object]] = [str(params_file), {"use_sim_time": use_sim_time}]
    processes: list[ProcessSpec] = []
    launched: dict[str, object] = {}
    if start_perception:
        if not perception_socket.startswith("/"):
            raise ValueError(f"perception_socket must be an absolute path, not {perception_socket!r}")
        processes.append(
            ProcessSpec(
                name="perception_service",
                command=(
                    "python3",
                    "-m",
                    "spatialclaw_ros.perception",
                    "--socket",
                    perception_socket,
                    "--settings",
                    perception_settings,
                ),
                respawn=True,
            )
        )
        launched["perception.url"] = f"unix://{perception_socket}"
    if vllm_model:
        processes.append(
            ProcessSpec(
                name="vllm",
                command=("vllm", "serve", vllm_model, "--host", "127.0.0.1", "--port", str(vllm_port)),
                respawn=False,
            )
        )
        launched["llm.base_url"] = f"http://127.0.0.1:{vllm_port}/v1"
        launched["llm.model"] = vllm_model
    if launched:
        parameters.append(launched)
    if overrides:
        parameters.append(dict(overrides))
    node = NodeSpec(
        executable="spatial_agent",
        name="spatial_agent",
        namespace=namespace,
        parameters=tuple(parameters),
        remappings=parse_remaps(camera_remaps),
    )
    return (node,), tuple(processes)
