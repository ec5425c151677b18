"""The node's parameters: declaration with descriptors, and a typed view of their values.

Every name here is pinned (DESIGN.md, config/agent.yaml): planners' launch files set them. All are read
when the node configures, so all are read-only: set them at start-up (parameter file, command line).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    ParameterType,
)
from rclpy.node import Node

SANDBOX_MODES = ("strict", "off")
SEGMENTERS = ("sam3", "labels", "none")
DEPTH_BACKENDS = ("da3", "sensor", "none")
RECONSTRUCTORS = ("da3", "none")


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter: its name, default, what it means, and its limits."""

    name: str
    default: Any
    description: str
    int_range: tuple[int, int] | None = None
    float_range: tuple[float, float] | None = None
    choices: tuple[str, ...] = ()

    def descriptor(self) -> ParameterDescriptor:
        """The ROS descriptor: rclpy enforces its ranges and read-only flag itself."""
        descriptor = ParameterDescriptor(
            name=self.name,
            description=self.description,
            # Every parameter is read at configure time: a later change would silently do nothing.
            read_only=True,
            type=_parameter_type(self.default),
        )
        if self.int_range is not None:
            descriptor.integer_range = [
                IntegerRange(from_value=self.int_range[0], to_value=self.int_range[1], step=1)
            ]
        if self.float_range is not None:
            descriptor.floating_point_range = [
                FloatingPointRange(from_value=self.float_range[0], to_value=self.float_range[1], step=0.0)
            ]
        if self.choices:
            descriptor.additional_constraints = "one of: " + ", ".join(self.choices)
        return descriptor


def _parameter_type(default: Any) -> int:
    if isinstance(default, bool):
        return ParameterType.PARAMETER_BOOL
    if isinstance(default, int):
        return ParameterType.PARAMETER_INTEGER
    if isinstance(default, float):
        return ParameterType.PARAMETER_DOUBLE
    if isinstance(default, str):
        return ParameterType.PARAMETER_STRING
    if isinstance(default, list) and all(isinstance(item, str) for item in default):
        return ParameterType.PARAMETER_STRING_ARRAY
    raise TypeError(f"no ROS parameter type for default {default!r}")


PARAMETERS: tuple[ParameterSpec, ...] = (
    ParameterSpec(
        "cameras",
        ["camera"],
        "Camera names; per NAME the node subscribes to NAME/image_raw, NAME/camera_info and optionally "
        "NAME/depth/image_raw (relative names, remappable).",
    ),
    ParameterSpec(
        "target_frame",
        "",
        "Frame every answer pose is expressed in; empty: the snapshot's world frame.",
    ),
    ParameterSpec(
        "autostart",
        True,
        "true: the lifecycle node configures and activates itself at start-up.",
    ),
    ParameterSpec(
        "llm.base_url",
        "http://localhost:8000/v1",
        "OpenAI-compatible endpoint of the vision-language model (vLLM first).",
    ),
    ParameterSpec("llm.model", "", "Model name served at llm.base_url; empty: the first one it lists."),
    ParameterSpec(
        "llm.api_key_env",
        "OPENAI_API_KEY",
        "Name of the environment variable that holds the API key (the key itself is never a parameter).",
    ),
    ParameterSpec(
        "agent.max_steps",
        12,
        "Most code cells the model may run for one query.",
        int_range=(1, 100),
    ),
    ParameterSpec(
        "agent.timeout_s",
        120.0,
        "Default time budget of one query, seconds (a request's timeout_s overrides it).",
        float_range=(1.0, 3600.0),
    ),
    ParameterSpec(
        "agent.planning",
        True,
        "true: a text-only planning call precedes the first code cell.",
    ),
    ParameterSpec(
        "agent.max_frames",
        16,
        "Default most frames handed to one query over all cameras (a request's max_frames overrides it).",
        int_range=(1, 256),
    ),
    ParameterSpec(
        "kernel.sandbox",
        "strict",
        "strict: every query runs in a locked-down kernel, and the node refuses to run cells when the "
        "sandbox cannot start; off: plain local kernel, for debugging only (warns at every query).",
        choices=SANDBOX_MODES,
    ),
    ParameterSpec(
        "kernel.pool_size",
        2,
        "Warm sandboxed kernels kept ready; each serves one query and is then destroyed.",
        int_range=(0, 16),
    ),
    ParameterSpec(
        "kernel.python",
        "/opt/spatialclaw/kernel-env/bin/python",
        "Interpreter of the kernels' own Python environment (no ROS; scripts/setup_sandbox.sh makes it).",
    ),
    ParameterSpec(
        "trace.dir",
        "",
        "Directory of the per-query traces (JSONL + HTML report); empty: $ROS_HOME/spatialclaw/traces "
        "(~/.ros/spatialclaw/traces).",
    ),
    ParameterSpec(
        "trace.max_mb",
        500.0,
        "Total size of the trace directory, MiB; the oldest traces are deleted beyond it.",
        float_range=(1.0, 1_000_000.0),
    ),
    ParameterSpec(
        "output.points",
        False,
        "true: publish the frames of each answered query as a coloured point cloud on ~/points.",
    ),
    ParameterSpec(
        "output.points_stride",
        4,
        "Pixel stride of ~/points (every Nth pixel in both directions).",
        int_range=(1, 64),
    ),
    ParameterSpec(
        "buffer.keyframe_hz",
        2.0,
        "Most frames kept per camera per second (the latest frame is always kept).",
        float_range=(0.01, 120.0),
    ),
    ParameterSpec(
        "buffer.history_s",
        120.0,
        "How far back frames are kept, seconds.",
        float_range=(1.0, 86400.0),
    ),
    ParameterSpec(
        "buffer.max_memory_mb",
        1024.0,
        "Hard cap on the memory of buffered frames, MiB; the oldest frames are evicted first.",
        float_range=(16.0, 65536.0),
    ),
    ParameterSpec(
        "buffer.pairing_wait_s",
        0.1,
        "Longest a colour frame waits for its depth and label images, seconds after it arrived; only "
        "complete frames reach queries. Streams that never delivered, or sent nothing for max(1 s, "
        "3 × this), are not waited for until their next message.",
        float_range=(0.0, 2.0),
    ),
    ParameterSpec(
        "max_concurrent_queries",
        2,
        "Queries run at once; further action goals are rejected, service calls wait for a slot within "
        "their time budget (then answer TIMEOUT).",
        int_range=(1, 16),
    ),
    ParameterSpec(
        "perception.url",
        "",
        "Perception service: empty: start the local service; unix:///path.sock: a service already running "
        "on this machine (kernels have no network, so only a Unix socket reaches them).",
    ),
    ParameterSpec(
        "perception.segmenter",
        "sam3",
        "Segmentation backend of tools.segment/track: sam3 (text prompts), labels (simulator instance-label "
        "images, NAME.labels) or none.",
        choices=SEGMENTERS,
    ),
    ParameterSpec(
        "perception.depth",
        "da3",
        "Depth of tools.depth for frames without sensor depth: da3 (Depth-Anything-3 metric), sensor "
        "(registered depth only) or none.",
        choices=DEPTH_BACKENDS,
    ),
    ParameterSpec(
        "perception.reconstructor",
        "da3",
        "Backend of tools.reconstruct: da3 (multi-view Depth-Anything-3) or none.",
        choices=RECONSTRUCTORS,
    ),
    ParameterSpec(
        "perception.device",
        "auto",
        "Torch device of the perception models: auto (CUDA when available), cpu, cuda or cuda:N.",
    ),
    ParameterSpec(
        "perception.sam3_model",
        "facebook/sam3",
        "SAM3 weights: a local directory or a Hugging Face model id in the local cache (gated: accept the "
        "licence, then `hf download facebook/sam3`).",
    ),
    ParameterSpec(
        "perception.da3_depth_model",
        "depth-anything/DA3METRIC-LARGE",
        "Single-image metric depth weights (directory or cached model id; DA3METRIC-LARGE is Apache-2.0).",
    ),
    ParameterSpec(
        "perception.da3_reconstruct_model",
        "depth-anything/DA3-BASE",
        "Multi-view weights (DA3-SMALL and DA3-BASE are Apache-2.0; larger presets are CC BY-NC 4.0, "
        "non-commercial).",
    ),
)


@dataclass(frozen=True)
class AgentParameters:
    """A typed snapshot of the node's parameters (read at configure time)."""

    cameras: tuple[str, ...]
    target_frame: str
    autostart: bool
    llm_base_url: str
    llm_model: str
    llm_api_key_env: str
    max_steps: int
    timeout_s: float
    planning: bool
    max_frames: int
    sandbox_mode: str
    pool_size: int
    kernel_python: str
    trace_dir: str
    trace_max_mb: float
    publish_points: bool
    points_stride: int
    keyframe_hz: float
    history_s: float
    max_memory_mb: float
    pairing_wait_s: float
    max_concurrent_queries: int
    perception_url: str
    perception_segmenter: str
    perception_depth: str
    perception_reconstructor: str
    perception_device: str
    sam3_model: str
    da3_depth_model: str
    da3_reconstruct_model: str


def declare_parameters(node: Node) -> None:
    """Declare every parameter of :data:`PARAMETERS` on ``node`` with its descriptor."""
    for spec in PARAMETERS:
        node.declare_parameter(spec.name, spec.default, spec.descriptor())


def validate_parameters(values: dict[str, Any]) -> str | None:
    """Check the constraints that descriptors cannot express; returns the reason a value is refused."""
    for spec in PARAMETERS:
        value = values.get(spec.name)
        if spec.choices and value is not None and value not in spec.choices:
            return f"{spec.name} must be one of {', '.join(spec.choices)}, not {value!r}"
    cameras = values.get("cameras")
    if cameras is not None:
        if not cameras:
            return "cameras must name at least one camera"
        if len(set(cameras)) != len(cameras):
            return f"cameras must be unique: {list(cameras)}"
        bad = [name for name in cameras if not name or name.startswith("/") or " " in name]
        if bad:
            return f"camera names must be non-empty relative names without spaces: {bad}"
    url = values.get("llm.base_url")
    if url is not None and not url.startswith(("http://", "https://")):
        return f"llm.base_url must be an http(s) URL, not {url!r}"
    return None


def read_parameters(node: Node) -> AgentParameters:
    """Read the declared parameters into :class:`AgentParameters`; raises ValueError on bad values."""
    values = {spec.name: node.get_parameter(spec.name).value for spec in PARAMETERS}
    problem = validate_parameters(values)
    if problem:
        raise ValueError(problem)
    return AgentParameters(
        cameras=tuple(values["cameras"]),
        target_frame=values["target_frame"],
        autostart=values["autostart"],
        llm_base_url=values["llm.base_url"],
        llm_model=values["llm.model"],
        llm_api_key_env=values["llm.api_key_env"],
        max_steps=values["agent.max_steps"],
        timeout_s=values["agent.timeout_s"],
        planning=values["agent.planning"],
        max_frames=values["agent.max_frames"],
        sandbox_mode=values["kernel.sandbox"],
        pool_size=values["kernel.pool_size"],
        kernel_python=values["kernel.python"],
        trace_dir=values["trace.dir"],
        trace_max_mb=values["trace.max_mb"],
        publish_points=values["output.points"],
        points_stride=values["output.points_stride"],
        keyframe_hz=values["buffer.keyframe_hz"],
        history_s=values["buffer.history_s"],
        max_memory_mb=values["buffer.max_memory_mb"],
        pairing_wait_s=values["buffer.pairing_wait_s"],
        max_concurrent_queries=values["max_concurrent_queries"],
        perception_url=values["perception.url"],
        perception_segmenter=values["perception.segmenter"],
        perception_depth=values["perception.depth"],
        perception_reconstructor=values["perception.reconstructor"],
        perception_device=values["perception.device"],
        sam3_model=values["perception.sam3_model"],
        da3_depth_model=values["perception.da3_depth_model"],
        da3_reconstruct_model=values["perception.da3_reconstruct_model"],
    )
