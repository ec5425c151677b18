"""What launch/agent.launch.py and demo.launch.py start, as plain data: testable without ``ros2 launch``.

The launch files only turn these specs into actions (:mod:`spatialclaw_ros.ros.launch_actions`); every
decision (names, parameter files, remappings, argument parsing) is made here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from spatialclaw_ros.perception import service_environ

if TYPE_CHECKING:
    import numpy as np

    from spatialclaw_ros.sim import Scene

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
    env: Mapping[str, str] | None = None  # the whole environment; None: the launcher's own


def parse_flag(text: str, name: str) -> bool:
    """A boolean launch argument: ``true``/``false`` (also ``1``/``0``, ``yes``/``no``; any case).

    Raises ValueError naming the argument for anything else.
    """
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise ValueError(f"launch argument {name}:={text!r} must be true or false")


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
                # No secret of the launching shell (the LLM key) reaches the service.
                env=service_environ(os.environ, {}),
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


DEMO_CAMERA_PREFIX = "cam"
# The first camera's pose topic carries the rig's pose: the other cameras are fixed relative to it.
DEMO_POSE_TOPIC = f"{DEMO_CAMERA_PREFIX}0/pose"


def demo_camera_names(count: int) -> tuple[str, ...]:
    """``cam0`` … ``cam{count-1}``; ValueError outside 1..MAX_CAMERAS."""
    from spatialclaw_ros.sim import MAX_CAMERAS

    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_CAMERAS:
        raise ValueError(f"the demo needs 1 to {MAX_CAMERAS} cameras, got {count!r}")
    return tuple(f"{DEMO_CAMERA_PREFIX}{index}" for index in range(count))


def rig_extrinsics(
    scene: Scene, T_world_body: np.ndarray, names: Mapping[str, str] | None = None
) -> dict[str, list[float]]:
    """``NAME.T_body_camera`` values ([x, y, z, qx, qy, qz, qw]) of a scene's standing cameras.

    Convention:
        ``T_world_body`` (4, 4) is the pose of the body whose pose topic the node follows (here one
        of the cameras); each value is ``inv(T_world_body) @ T_world_camera`` at scene time 0, so
        the node's ``T_world_camera`` is ``T_world_body(t) @ T_body_camera``. ``names`` renames
        the scene's cameras (scene name → node camera name). Raises ValueError for moving cameras.
    """
    from spatialclaw_ros.geometry import invert_transform, matrix_to_quat

    T_body_world = invert_transform(T_world_body)
    extrinsics = {}
    for camera in scene.cameras:
        if camera.motion is not None:
            raise ValueError(f"camera {camera.name!r} moves: a rig needs standing cameras")
        T = T_body_world @ camera.T_world_camera(0.0)
        name = (names or {}).get(camera.name, camera.name)
        extrinsics[name] = [float(v) for v in (*T[:3, 3], *matrix_to_quat(T[:3, :3]))]
    return extrinsics


def rig_camera_parameters(extrinsics: Mapping[str, Sequence[float]], pose_topic: str) -> dict[str, object]:
    """The agent's parameters for a rig of simulated cameras with depth and instance labels.

    Cameras in ``extrinsics`` order; poses from ``pose_topic`` (the body's PoseStamped) composed
    with each camera's ``T_body_camera``.
    """
    parameters: dict[str, object] = {
        "cameras": list(extrinsics),
        "pose.source": "topic",
        "pose.topic": pose_topic,
        "pose.type": "pose_stamped",
    }
    for name, values in extrinsics.items():
        parameters[f"{name}.depth"] = True
        parameters[f"{name}.labels"] = True
        parameters[f"{name}.T_body_camera"] = [float(v) for v in values]
    return parameters


def demo_scene(params_file: Path, seed: int, cameras: int) -> Scene:
    """The scene the demo's sim publisher will publish.

    Its section of ``params_file`` with this ``seed`` and camera count: the same arguments give the
    same scene.
    """
    import yaml

    from spatialclaw_ros.sim import generate_scene

    document = yaml.safe_load(Path(params_file).read_text(encoding="utf-8")) or {}
    section = next(
        (value for key, value in document.items() if str(key).rsplit("/", 1)[-1] == "sim_camera_publisher"),
        None,
    )
    if not isinstance(section, Mapping) or "ros__parameters" not in section:
        raise ValueError(f"{params_file} has no sim_camera_publisher section with ros__parameters")
    sim = _flatten(section["ros__parameters"])
    if sim.get("camera_motion", False):
        raise ValueError(f"{params_file}: the demo's rig needs camera_motion: false")
    return generate_scene(
        seed=seed,
        kind=str(sim.get("scene.kind", "room")),
        cameras=demo_camera_names(cameras),
        width=int(sim.get("width", 640)),
        height=int(sim.get("height", 480)),
        hfov_deg=float(sim.get("hfov_deg", 70.0)),
    )


def _flatten(tree: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


# Image streams a simulated rig sends reliably: with the sensor-data QoS's best effort, Fast DDS drops large
# images when a tick's burst of them overflows its shared-memory segment (whole cameras lost on a loaded
# machine: a 4-camera demo at 320×240 got no colour image at all once).
RELIABLE_IMAGE_STREAMS = ("image_raw", "depth/image_raw", "labels/image_raw")


def reliable_image_streams(namespace: str, cameras: Sequence[str], endpoint: str) -> dict[str, str]:
    """``qos_overrides`` making the cameras' image streams reliable at one ``endpoint``.

    ``endpoint``: ``publisher`` (the camera driver's side) or ``subscription`` (the agent's); both ends
    must ask for it (a reliable subscription does not match a best-effort publisher).
    """
    prefix = "/" + namespace.strip("/") if namespace.strip("/") else ""
    return {
        f"qos_overrides.{prefix}/{camera}/{stream}.{endpoint}.reliability": "reliable"
        for camera in cameras
        for stream in RELIABLE_IMAGE_STREAMS
    }


def demo_nodes(
    *,
    namespace: str,
    params_file: Path,
    seed: int = 0,
    cameras: int = 4,
    noise: bool = False,
    use_sim_time: bool = False,
) -> Sequence[NodeSpec]:
    """The nodes of demo.launch.py: the sim camera publisher and the ``spatial_agent`` node.

    Both read ``params_file`` (config/demo.yaml); on top the publisher gets the scene seed, the
    camera names and the noise switch, and the agent the same cameras with depth, labels and the
    rig's extrinsics (computed from the scene the publisher will generate).
    """
    scene = demo_scene(params_file, seed, cameras)
    names = demo_camera_names(cameras)
    first = scene.cameras[0].T_world_camera(0.0)
    camera_parameters = rig_camera_parameters(rig_extrinsics(scene, first), DEMO_POSE_TOPIC)
    common: dict[str, object] = {"use_sim_time": use_sim_time}
    sim = NodeSpec(
        executable="sim_camera_publisher",
        name="sim_camera_publisher",
        namespace=namespace,
        parameters=(
            str(params_file),
            {**common, "scene.seed": seed, "cameras": list(names), "depth.noise": noise},
            reliable_image_streams(namespace, names, "publisher"),
        ),
    )
    agent = NodeSpec(
        executable="spatial_agent",
        name="spatial_agent",
        namespace=namespace,
        parameters=(
            str(params_file),
            {**common, **camera_parameters},
            reliable_image_streams(namespace, names, "subscription"),
        ),
    )
    return (sim, agent)
