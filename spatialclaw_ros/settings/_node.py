"""The ``spatial_agent`` node's settings: every parameter it takes, with its default, unit, range and meaning.

Every name here is pinned (DESIGN.md): planners' launch files and parameter files set them. The node
declares them from this tree (``ros/parameters.py``); ``config/agent.yaml`` and the README's parameter
table are generated from it (``scripts/parameter_docs.py``) and a test keeps them equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from spatialclaw_ros.settings._knob import SettingsError, knob, per_camera, section

SANDBOX_MODES = ("strict", "off")
SEGMENTERS = ("sam3", "labels", "none")
DEPTH_BACKENDS = ("da3", "sensor", "none")
RECONSTRUCTORS = ("da3", "none")
DEPTH_MODES = ("auto", "true", "false")
POSE_SOURCES = ("auto", "tf", "topic", "none")
POSE_TYPES = ("odometry", "pose_stamped")


def _camera_names(names: tuple[str, ...]) -> str | None:
    if not names:
        return "name at least one camera"
    if len(set(names)) != len(names):
        return f"camera names must be unique: {list(names)}"
    bad = [name for name in names if not name or name.startswith("/") or " " in name]
    if bad:
        return f"camera names must be non-empty relative names without spaces: {bad}"
    return None


def _http_url(url: str) -> str | None:
    return None if url.startswith(("http://", "https://")) else "must be an http(s) URL"


def _perception_url(url: str) -> str | None:
    if not url or url.startswith(("http://", "https://")) or url.startswith("unix:///"):
        return None
    return "must be empty, unix:///absolute/path.sock or an http(s):// URL"


def _env_name(name: str) -> str | None:
    return None if not name or name.replace("_", "").isalnum() else "must be an environment variable name"


def _transform(values: tuple[float, ...]) -> str | None:
    if len(values) in (0, 7):
        return None
    return f"must be [x, y, z, qx, qy, qz, qw] (7 numbers) or unset, got {len(values)} numbers"


@dataclass(frozen=True)
class LLMSection:
    """``llm.*``: the vision-language model's endpoint."""

    base_url: str = knob(
        "http://localhost:8000/v1",
        "OpenAI-compatible endpoint of the vision-language model (vLLM: `vllm serve MODEL`).",
        check=_http_url,
    )
    model: str = knob("", "Model served there; empty: the first model the endpoint lists.")
    api_key_env: str = knob(
        "OPENAI_API_KEY",
        "Name of the environment variable holding the API key. The key itself never goes in a "
        "parameter, a log, a trace or a kernel.",
    )


@dataclass(frozen=True)
class AgentSection:
    """``agent.*``: the budgets of one query."""

    max_steps: int = knob(12, "Most code cells the model may run for one query.", range=(1, 100))
    timeout_s: float = knob(
        120.0,
        "Default time budget of one query; a request's timeout_s overrides it.",
        unit="s",
        range=(1.0, 3600.0),
    )
    planning: bool = knob(True, "true: a text-only planning call precedes the first code cell.")
    max_frames: int = knob(
        16,
        "Default most frames handed to one query over all cameras; a request's max_frames overrides it.",
        range=(1, 256),
    )
    key_frames: int = knob(
        4,
        "Frames sent to the model as images with the question, spread over the snapshot's time span; 0 "
        "for a text-only model (only messages with images are sent as content parts).",
        range=(0, 64),
    )
    max_images_per_step: int = knob(
        4, "Most show() images one observation sends to the model; 0 for a text-only model.", range=(0, 64)
    )
    max_images_per_query: int = knob(
        24, "Most show() images one query sends to the model in all.", range=(0, 1024)
    )


@dataclass(frozen=True)
class KernelSection:
    """``kernel.*``: the sandboxed Jupyter kernels that run the model's cells."""

    sandbox: str = knob(
        "strict",
        "strict: each query runs in a locked-down kernel (no network, read-only files, no ROS); the node "
        "refuses to run cells when the sandbox cannot start. off: a plain local kernel, for debugging "
        "only; the node warns at every query.",
        choices=SANDBOX_MODES,
    )
    pool_size: int = knob(
        2, "Warm kernels kept ready; each serves one query and is then destroyed.", range=(0, 16)
    )
    python: str = knob(
        "/opt/spatialclaw/kernel-env/bin/python",
        "Interpreter of the kernels' own Python environment (numpy, scipy, cv2, matplotlib, ipykernel; "
        "no ROS). scripts/setup_sandbox.sh creates it.",
    )


@dataclass(frozen=True)
class TraceSection:
    """``trace.*``: the per-query traces."""

    dir: str = knob(
        "",
        "Directory of the per-query traces (JSONL event log, images, HTML report); empty: "
        "$ROS_HOME/spatialclaw/traces (~/.ros/spatialclaw/traces). A query's trace_uri points at its report.",
    )
    max_mb: float = knob(
        500.0,
        "Total size of the trace directory; the oldest finished traces are deleted beyond it, never a "
        "running one nor the 4 newest. One query's trace (log, images, report) takes at most an eighth "
        "of it: past that, its output is cut and a 'truncated' event says so.",
        unit="MiB",
        range=(1.0, 1_000_000.0),
    )


@dataclass(frozen=True)
class OutputSection:
    """``output.*``: optional outputs of an answered query."""

    points: bool = knob(
        False,
        "true: publish the frames of each answered query as a coloured point cloud on ~/points "
        "(sensor depth, in the answer's frame).",
    )
    points_stride: int = knob(
        4, "Pixel stride of ~/points: every Nth pixel in both directions.", unit="px", range=(1, 64)
    )


@dataclass(frozen=True)
class BufferSection:
    """``buffer.*``: the frame buffer the queries take their frames from."""

    keyframe_hz: float = knob(
        2.0,
        "Most frames kept per camera per second; the latest frame is always kept.",
        unit="Hz",
        range=(0.01, 120.0),
    )
    history_s: float = knob(120.0, "How far back frames are kept.", unit="s", range=(1.0, 86400.0))
    max_memory_mb: float = knob(
        1024.0,
        "Hard cap on the memory of buffered frames; the oldest frames are evicted first.",
        unit="MiB",
        range=(16.0, 65536.0),
    )
    pairing_wait_s: float = knob(
        0.1,
        "Longest a colour frame waits for its depth and label images after it arrived; queries only ever "
        "see complete frames. A stream that never delivered, or sent nothing for max(1 s, 3 × this), is "
        "not waited for until its next message.",
        unit="s",
        range=(0.0, 2.0),
    )


@dataclass(frozen=True)
class PoseSection:
    """``pose.*``: where camera poses come from."""

    source: str = knob(
        "auto",
        "Where camera poses come from: tf, topic (pose.topic), none, or auto (topic when pose.topic is "
        "set, else tf when tf2_ros is installed, else none).",
        choices=POSE_SOURCES,
    )
    topic: str = knob("", "Body pose topic (relative name) for pose.source topic, e.g. odom.")
    type: str = knob(
        "odometry",
        "Message type of pose.topic: odometry (nav_msgs/Odometry) or pose_stamped "
        "(geometry_msgs/PoseStamped).",
        choices=POSE_TYPES,
    )
    world_frame: str = knob("map", "Fixed frame that tf camera poses are looked up in.")


@dataclass(frozen=True)
class PerceptionSection:
    """``perception.*``: the perception service behind tools.segment, track, depth and reconstruct."""

    url: str = knob(
        "",
        "Perception service: empty: start the local service process; unix:///path.sock: a service already "
        "running on this machine; http(s)://host:port: a remote one (the plain service with --tcp, or the "
        "Ray Serve app). Kernels never reach it themselves: each query's kernel talks to the node's relay, "
        "which adds the query's identity and the token.",
        check=_perception_url,
    )
    token_env: str = knob(
        "SPATIALCLAW_PERCEPTION_TOKEN",
        "Name of the environment variable holding the bearer token of a remote perception service (read "
        "by the node at configure, sent by its relay, never seen by kernels); unset: no token.",
        check=_env_name,
    )
    max_request_mb: int = knob(
        96,
        "Largest request a kernel may send the perception service (it holds one request per query at a "
        "time: this bounds what a hostile cell can make it hold). 16 frames of 640x480 RGB + depth take "
        "about 34 MiB, 16 of 1280x720 about 98 MiB.",
        unit="MiB",
        range=(1, 4096),
    )
    service_user: str = knob(
        "spatialclaw-perception",
        "Unprivileged user the local perception service runs as when the node runs as root (created by "
        "scripts/setup_sandbox.sh); empty: the node's own user.",
    )
    segmenter: str = knob(
        "sam3",
        "Backend of tools.segment and tools.track: sam3 (text prompts), labels (simulator instance-label "
        "images; set NAME.labels per camera) or none.",
        choices=SEGMENTERS,
    )
    depth: str = knob(
        "da3",
        "Backend of tools.depth for frames without sensor depth (sensor depth is always preferred): da3 "
        "(Depth-Anything-3 metric), sensor (registered depth only) or none.",
        choices=DEPTH_BACKENDS,
    )
    reconstructor: str = knob(
        "da3",
        "Backend of tools.reconstruct: da3 (multi-view Depth-Anything-3) or none.",
        choices=RECONSTRUCTORS,
    )
    device: str = knob("auto", "Torch device: auto (CUDA when available), cpu, cuda or cuda:N.")
    sam3_model: str = knob(
        "facebook/sam3",
        "SAM3 weights: a local directory, or a Hugging Face model id already in the local cache (nothing "
        "is downloaded at run time). facebook/sam3 is gated: accept its licence, then "
        "`hf download facebook/sam3`.",
    )
    da3_depth_model: str = knob(
        "depth-anything/DA3METRIC-LARGE",
        "Single-image metric depth weights (directory or cached model id). DA3METRIC-LARGE, DA3-SMALL and "
        "DA3-BASE are Apache-2.0.",
    )
    da3_reconstruct_model: str = knob(
        "depth-anything/DA3-BASE",
        "Multi-view reconstruction weights. The presets larger than DA3-BASE are CC BY-NC 4.0 "
        "(non-commercial).",
    )


@dataclass(frozen=True)
class CameraSection:
    """``NAME.*``: one camera's streams (NAME is one of ``cameras``)."""

    compressed: bool = knob(False, "Subscribe to NAME/image_raw/compressed instead of NAME/image_raw.")
    depth: str = knob(
        "auto",
        "Depth from NAME/depth/image_raw and NAME/depth/camera_info: auto (subscribe; frames carry depth "
        "once it arrives), true (required: diagnostics warn while none arrives) or false (never subscribe).",
        choices=DEPTH_MODES,
        booleans_as_text=True,
    )
    depth_compressed: bool = knob(
        False, "Take depth from NAME/depth/image_raw/compressedDepth (image_transport's PNG codec)."
    )
    labels: bool = knob(
        False,
        "Subscribe to NAME/labels/image_raw (simulator instance ids, pixel-aligned with the image) and the "
        "latched NAME/labels/map (JSON {id: name}); feeds the labels segmenter.",
    )
    T_body_camera: tuple[float, ...] = knob(
        (),
        "Static pose of the camera optical frame in the body frame of pose.topic, [x, y, z, qx, qy, qz, qw] "
        "(m, unit quaternion); unset: the pose topic gives the camera itself.",
        check=_transform,
    )
    T_color_depth: tuple[float, ...] = knob(
        (),
        "Pose of the depth optical frame in the colour optical frame, [x, y, z, qx, qy, qz, qw]; reprojects "
        "depth whose frame_id differs from the colour image's (else tf, else an error).",
        check=_transform,
    )


@dataclass(frozen=True)
class NodeSettings:
    """Every parameter of the ``spatial_agent`` node, typed and checked (see :func:`parse`)."""

    cameras: tuple[str, ...] = knob(
        ("camera",),
        "Camera names. Per NAME the node subscribes to the relative topics NAME/image_raw, "
        "NAME/camera_info, NAME/depth/image_raw and NAME/depth/camera_info (remap them in the launch "
        "file); the NAME.* parameters below set each camera's streams.",
        check=_camera_names,
    )
    target_frame: str = knob(
        "", "Frame every answer pose is expressed in; empty: the snapshot's world frame."
    )
    autostart: bool = knob(
        True,
        "true: the lifecycle node configures and activates itself at start-up; false: drive it with "
        "`ros2 lifecycle set`.",
    )
    llm: LLMSection = section(LLMSection, "The vision-language model.")
    agent: AgentSection = section(AgentSection, "Budgets of one query.")
    kernel: KernelSection = section(KernelSection, "The sandboxed kernels.")
    trace: TraceSection = section(TraceSection, "Per-query traces.")
    output: OutputSection = section(OutputSection, "Optional outputs.")
    buffer: BufferSection = section(BufferSection, "The frame buffer.")
    max_concurrent_queries: int = knob(
        2,
        "Queries run at once; further action goals are rejected, service calls wait for a slot within "
        "their time budget (then answer TIMEOUT).",
        range=(1, 16),
    )
    perception: PerceptionSection = section(PerceptionSection, "The perception service.")
    pose: PoseSection = section(PoseSection, "Camera poses.")
    camera: Mapping[str, CameraSection] = per_camera(CameraSection, "Per camera NAME (one of cameras).")

    def __post_init__(self) -> None:
        """Give every camera its section (the defaults where none is set); refuse sections of no camera."""
        unknown = sorted(set(self.camera) - set(self.cameras))
        if unknown:
            raise SettingsError(
                f"camera settings for {unknown}, which are not in cameras {list(self.cameras)}"
            )
        complete = {name: self.camera.get(name, CameraSection()) for name in self.cameras}
        object.__setattr__(self, "camera", MappingProxyType(complete))
