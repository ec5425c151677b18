"""The demo: a simulated camera rig and the spatial agent in their own processes, asked known questions.

``spatialclaw demo [--seed N] [--cameras K] [--noise]`` (and :func:`run_demo`) starts the installed
``sim_camera_publisher`` and ``spatial_agent`` executables with config/demo.yaml (the node specs come
from ``spatialclaw_ros.ros.launch_spec.demo_nodes``), waits for the ground truth and for a window of
frames, then asks every question of ``spatialclaw_ros.sim.questions.generate_questions`` through the
``code`` path (the programs of ``spatialclaw_ros.sim.programs``) and, when the VLM at ``llm.base_url``
answers, through the VLM too, and prints each answer beside the truth. The pieces (processes, ground
truth listener, tick counter, answer conversion) serve the accuracy tests as well.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import String

from spatialclaw_ros.msg import SpatialAnswer
from spatialclaw_ros.ros.client import QueryOptions, SpatialClawClient
from spatialclaw_ros.ros.launch_spec import NodeSpec, demo_nodes
from spatialclaw_ros.ros.processes import spinning_node, stop
from spatialclaw_ros.ros.qos import LATCHED_QOS
from spatialclaw_ros.sim._ground_truth import GroundTruth
from spatialclaw_ros.sim.programs import question_cell
from spatialclaw_ros.sim.questions import Check, Question, check_answer, generate_questions

PACKAGE = "spatialclaw_ros"


class DemoError(RuntimeError):
    """The demo could not run: a missing executable, a node that died, or data that never came."""


def executable_path(name: str) -> Path:
    """Path of an executable this package installs into ``lib/spatialclaw_ros`` (the ament index's prefix).

    Raises DemoError naming the build step when it is missing.
    """
    from ament_index_python.packages import PackageNotFoundError, get_package_prefix

    try:
        path = Path(get_package_prefix(PACKAGE)) / "lib" / PACKAGE / name
    except PackageNotFoundError:
        raise DemoError(
            f"package {PACKAGE} is not installed: build it with colcon and source its setup"
        ) from None
    if not path.exists():
        raise DemoError(f"{path} is missing: rebuild the package (colcon build)")
    return path


def _yaml_parameters(node: str, parameters: Mapping[str, object], directory: Path) -> Path:
    path = directory / f"{node}_{len(list(directory.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump({f"/**/{node}": {"ros__parameters": dict(parameters)}}), encoding="utf-8")
    return path


def node_command(spec: NodeSpec, directory: Path, extra_remaps: Sequence[tuple[str, str]] = ()) -> list[str]:
    """The command line that runs ``spec`` (parameter mappings go into YAML files in ``directory``)."""
    command = [str(executable_path(spec.executable)), "--ros-args", "-r", f"__node:={spec.name}"]
    if spec.namespace:
        command += ["-r", f"__ns:=/{spec.namespace.strip('/')}"]
    for parameters in spec.parameters:
        if isinstance(parameters, str):
            command += ["--params-file", parameters]
        else:
            command += ["--params-file", str(_yaml_parameters(spec.name, parameters, directory))]
    for source, target in (*spec.remappings, *extra_remaps):
        command += ["-r", f"{source}:={target}"]
    return command


@contextmanager
def running(command: Sequence[str], name: str, log_dir: Path) -> Iterator[subprocess.Popen]:
    """Run ``command`` for the block's duration (output in ``log_dir/name.log``); SIGINT, then SIGKILL."""
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield process
        finally:
            stop(process)


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``condition`` every 50 ms; DemoError naming ``what`` after ``timeout_s`` seconds."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise DemoError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(0.05)


class GroundTruthListener:
    """Holds the latest ``sim/ground_truth`` document of a topic (latched: late joiners get it)."""

    def __init__(self, node: Node, topic: str) -> None:
        self._truth: GroundTruth | None = None
        self._subscription = node.create_subscription(String, topic, self._on_message, LATCHED_QOS)
        self._node = node

    def _on_message(self, message: String) -> None:
        self._truth = GroundTruth.from_json(message.data)

    def wait(self, timeout_s: float) -> GroundTruth:
        """The ground truth, waiting up to ``timeout_s`` seconds for it."""
        wait_until(lambda: self._truth is not None, timeout_s, f"{self._subscription.topic_name}")
        assert self._truth is not None
        return self._truth

    def close(self) -> None:
        """Unsubscribe."""
        self._node.destroy_subscription(self._subscription)


class TickCounter:
    """Counts a camera's ``camera_info`` messages (one per publisher tick) without touching images."""

    def __init__(self, node: Node, camera: str) -> None:
        self.count = 0
        self._node = node
        self._subscription = node.create_subscription(
            CameraInfo, f"{camera}/camera_info", self._on_message, qos_profile_sensor_data
        )

    def _on_message(self, message: CameraInfo) -> None:
        self.count += 1

    def wait(self, ticks: int, timeout_s: float) -> None:
        """Block until ``ticks`` messages arrived."""
        wait_until(
            lambda: self.count >= ticks, timeout_s, f"{ticks} ticks of {self._subscription.topic_name}"
        )

    def close(self) -> None:
        """Unsubscribe."""
        self._node.destroy_subscription(self._subscription)


class AgentCameras:
    """What the agent reports on ``/diagnostics`` about each camera: frames, label images, label map."""

    def __init__(self, node: Node, agent: str) -> None:
        """``agent`` is the node's fully qualified name, e.g. ``/spatialclaw/spatial_agent``."""
        self._prefix = f"{agent}: camera "
        self._received: dict[str, int] = {}
        self._labels_received: dict[str, int] = {}
        self._label_names: dict[str, int] = {}
        self._node = node
        self._subscription = node.create_subscription(DiagnosticArray, "/diagnostics", self._on_message, 10)

    def _on_message(self, message: DiagnosticArray) -> None:
        for status in message.status:
            if not status.name.startswith(self._prefix):
                continue
            camera = status.name[len(self._prefix) :]
            values = {item.key: item.value for item in status.values}
            self._received[camera] = int(values.get("received", 0))
            self._labels_received[camera] = int(values.get("labels_received", 0))
            self._label_names[camera] = int(values.get("label_map_size", 0))

    def ready(self, cameras: Sequence[str], frames: int, labels: bool) -> bool:
        """Whether every camera delivered ``frames`` frames (``labels``: as many label images, and a map)."""
        return all(
            self._received.get(camera, 0) >= frames
            and (
                not labels
                or (self._labels_received.get(camera, 0) >= frames and self._label_names.get(camera, 0) > 0)
            )
            for camera in cameras
        )

    def wait(self, cameras: Sequence[str], frames: int, labels: bool, timeout_s: float) -> None:
        """Block until :meth:`ready`."""
        wait_until(
            lambda: self.ready(cameras, frames, labels), timeout_s, f"frames of {list(cameras)} at the agent"
        )

    def close(self) -> None:
        """Unsubscribe."""
        self._node.destroy_subscription(self._subscription)


def _stamp_s(stamp) -> float:
    return stamp.sec + 1e-9 * stamp.nanosec


def answer_value(question: Question, answer: SpatialAnswer) -> object:
    """The value of a one-question answer in the form ``check_answer`` reads (see ``questions``)."""
    if answer.error_code != SpatialAnswer.NONE:
        return {"error": answer.error_message or f"error {answer.error_code}"}
    figures = {item.name: item.value for item in answer.measurements}
    if question.kind == "size":
        return {key: figures.get(f"{question.id}.{key}") for key in ("length", "width", "height")}
    if question.kind == "motion":
        if not answer.trajectories or not answer.trajectories[0].path.poses:
            return {"error": "no trajectory in the answer"}
        poses = answer.trajectories[0].path.poses
        return {
            "speed_mps": figures.get(f"{question.id}.speed"),
            "heading_rad": figures.get(f"{question.id}.heading"),
            "from_stamp": _stamp_s(poses[0].header.stamp),
            "to_stamp": _stamp_s(poses[-1].header.stamp),
        }
    if question.kind == "direction":
        return answer.answer
    try:
        return float(answer.answer)
    except ValueError:
        return {"error": f"not a number: {answer.answer!r}"}


@dataclass(frozen=True)
class DemoSettings:
    """What the demo runs: scene seed, number of cameras, depth noise, and where."""

    seed: int = 0
    cameras: int = 4
    noise: bool = False
    params_file: Path | None = None
    namespace: str = "spatialclaw_demo"
    window_s: float = 3.0
    startup_timeout_s: float = 90.0
    query_timeout_s: float = 120.0


def default_demo_params() -> Path:
    """config/demo.yaml from the installed share directory, else from the source tree."""
    from ament_index_python.packages import PackageNotFoundError, get_package_share_directory

    try:
        return Path(get_package_share_directory(PACKAGE)) / "config" / "demo.yaml"
    except PackageNotFoundError:
        return Path(__file__).resolve().parents[2] / "config" / "demo.yaml"


@dataclass(frozen=True)
class DemoRow:
    """One question with the code path's checks and the VLM's answer text ("" when not asked)."""

    question: Question
    checks: tuple[Check, ...]
    code_answer: str
    vlm_answer: str


def _ask(client: SpatialClawClient, question: Question, settings: DemoSettings, code: str) -> SpatialAnswer:
    options = QueryOptions(
        window_s=settings.window_s,
        max_frames=0,
        answer_type=question.answer_type,
        choices=question.choices,
        code=code,
        timeout_s=settings.query_timeout_s,
    )
    return client.query(question.text, options, wait_s=settings.query_timeout_s + 30.0)


def run_demo(settings: DemoSettings, out=sys.stdout) -> list[DemoRow]:
    """Start the rig and the agent, ask every question, print the table to ``out``; the rows asked."""
    params_file = settings.params_file or default_demo_params()
    specs = demo_nodes(
        namespace=settings.namespace,
        params_file=params_file,
        seed=settings.seed,
        cameras=settings.cameras,
        noise=settings.noise,
    )
    rate_hz = float(_sim_parameter(params_file, "rate_hz", 2.0))
    ticks = int(settings.window_s * rate_hz) + 2
    directory = Path(tempfile.mkdtemp(prefix="spatialclaw-demo-"))
    namespace = f"/{settings.namespace.strip('/')}"
    try:
        with (
            running(node_command(specs[0], directory), "sim_camera_publisher", directory),
            running(node_command(specs[1], directory), "spatial_agent", directory) as agent,
            spinning_node("spatialclaw_demo") as node,
        ):
            truth = GroundTruthListener(node, f"{namespace}/sim/ground_truth").wait(
                settings.startup_timeout_s
            )
            last_camera = truth.scene.cameras[-1].name
            counter = TickCounter(node, f"{namespace}/{last_camera}")
            client = SpatialClawClient(
                agent=f"{namespace}/spatial_agent", node_name="demo_planner", context=node.context
            )
            try:
                client.wait_until_ready(timeout_s=settings.startup_timeout_s)
                counter.wait(ticks, settings.startup_timeout_s)
                if agent.poll() is not None:
                    raise DemoError(f"spatial_agent exited with status {agent.returncode}")
                rows = _ask_all(client, truth, settings, out)
            finally:
                client.destroy()
                counter.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return rows


def _sim_parameter(params_file: Path, name: str, default: object) -> object:
    document = yaml.safe_load(Path(params_file).read_text(encoding="utf-8")) or {}
    for key, section in document.items():
        if str(key).rsplit("/", 1)[-1] == "sim_camera_publisher":
            value: object = section.get("ros__parameters", {})
            for part in name.split("."):
                value = value.get(part, default) if isinstance(value, Mapping) else default
            return value
    return default


def _ask_all(client: SpatialClawClient, truth: GroundTruth, settings: DemoSettings, out) -> list[DemoRow]:
    questions = generate_questions(truth.scene)
    print(
        f"scene {truth.scene.kind} seed {truth.scene.seed}: {len(truth.scene.objects)} objects, "
        f"cameras {', '.join(camera.name for camera in truth.scene.cameras)}, "
        f"depth noise {'on' if settings.noise else 'off'}",
        file=out,
    )
    vlm_ok = True
    rows = []
    for question in questions:
        answer = _ask(client, question, settings, question_cell(question.spec()))
        checks = tuple(check_answer(question, answer_value(question, answer), truth))
        code_text = (
            answer.answer if answer.error_code == SpatialAnswer.NONE else f"error: {answer.error_message}"
        )
        vlm_text = ""
        if vlm_ok:
            reply = _ask(client, question, settings, "")
            if reply.error_code == SpatialAnswer.MODEL_UNAVAILABLE:
                vlm_ok = False
                print(f"VLM unavailable ({reply.error_message}): code path only", file=out)
            else:
                vlm_text = (
                    reply.answer
                    if reply.error_code == SpatialAnswer.NONE
                    else f"error: {reply.error_message}"
                )
        row = DemoRow(question, checks, code_text, vlm_text)
        rows.append(row)
        print(format_row(row), file=out, flush=True)
    return rows


def _figure(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def format_row(row: DemoRow) -> str:
    """A question, each quantity's truth beside the code path's figure and error, then the answers."""
    lines = [f"{row.question.id} {row.question.text}"]
    for check in row.checks:
        error = "no answer: " + check.detail if check.error is None else f"error {100.0 * check.error:.2f}%"
        if check.quantity == "direction" and check.error is not None:
            error = "correct" if check.error == 0.0 else "wrong"
        lines.append(
            f"    {check.quantity:<12} truth {_figure(check.truth):>10}   "
            f"code {_figure(check.measured):>10}   {error}"
        )
    lines.append(f"    code answer: {row.code_answer}")
    if row.vlm_answer:
        lines.append(f"    VLM answer:  {row.vlm_answer}")
    return "\n".join(lines)


def main(seed: int = 0, cameras: int = 4, noise: bool = False, params_file: Path | None = None) -> int:
    """Run the demo; the exit status is 0 when it ran to the end, else 1 (the reason on stderr)."""
    try:
        run_demo(DemoSettings(seed=seed, cameras=cameras, noise=noise, params_file=params_file))
    except (DemoError, ValueError, TimeoutError) as error:
        print(f"spatialclaw demo: {error}", file=sys.stderr)
        return 1
    return 0
