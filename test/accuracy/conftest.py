"""The accuracy survey: every generated scene through its own spatial_agent (real processes).

Each scene runs in its own namespace (``/accuracy/sNN``): one spatial_agent that knows only that
scene's cameras, and two sim publishers of the scene at once, exact depth (cameras ``sNNe0..3``) and
the depth noise model (``sNNn0..3``). A rig's cameras are fixed relative to its first camera, whose
pose both publishers send on ``rig/pose`` (their twin cameras stand in the same places). The
publishers run until the agent holds a window of frames, then stop; the scene's survey query (both
depth kinds in one snapshot) runs while the next scene's agent starts, then the agent stops. One agent per
scene keeps each agent's executor small: rclpy's executor pays for every subscription it holds on
every message it takes, and an agent holding all 160 cameras of the survey could take only a few
dozen messages a second.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from spatialclaw_ros.msg import SpatialAnswer
from spatialclaw_ros.ros.client import QueryOptions, SpatialClawClient
from spatialclaw_ros.ros.demo import (
    AgentCameras,
    GroundTruthListener,
    TickCounter,
    node_command,
    running,
    spinning_node,
)
from spatialclaw_ros.ros.launch_spec import (
    NodeSpec,
    reliable_image_streams,
    rig_camera_parameters,
    rig_extrinsics,
)
from spatialclaw_ros.sim import GroundTruth, generate_scene
from spatialclaw_ros.sim.programs import survey_cell
from spatialclaw_ros.sim.questions import Check, check_answer, generate_questions, survey_values

REPO = Path(__file__).resolve().parents[2]
PARAMS_FILE = REPO / "config" / "demo.yaml"
NAMESPACE = "/accuracy"
SEEDS = tuple(range(20))
CAMERAS = 4
# Publisher rate (Hz) and the window the survey reads (s): 9 ticks per camera.
RATE_HZ = 4.0
WINDOW_S = 2.0
RIG_POSE = "rig/pose"
# Longest wait for a scene's publishers (ground truth, ticks, frames at the agent), seconds: generous for a
# loaded 2-core CI machine; the waits end as soon as the data is in.
SCENE_WAIT_S = 90.0
KINDS = ("exact", "noisy")
# Depth on its own topic as a real depth camera sends it: each message up to 40 ms after its colour
# image, now and then 10 ms before it. The agent must pair every frame all the same.
DEPTH_LAG = {"depth.lag_min_s": -0.01, "depth.lag_max_s": 0.04}


def _sim_settings() -> dict:
    document = yaml.safe_load(PARAMS_FILE.read_text())
    return {**document["/**/sim_camera_publisher"]["ros__parameters"], "rate_hz": RATE_HZ}


def camera_names(seed: int, kind: str) -> list[str]:
    return [f"s{seed:02d}{kind[0]}{k}" for k in range(CAMERAS)]


def scene_of(seed: int, kind: str):
    sim = _sim_settings()
    return generate_scene(
        seed=seed,
        kind=sim["scene"]["kind"],
        cameras=camera_names(seed, kind),
        width=sim["width"],
        height=sim["height"],
        hfov_deg=sim["hfov_deg"],
    )


def scene_namespace(seed: int) -> str:
    return f"{NAMESPACE}/s{seed:02d}"


def reliable(seed: int, kinds: tuple[str, ...], endpoint: str) -> dict[str, str]:
    """``qos_overrides`` parameters making the image streams of ``kinds`` reliable at one ``endpoint``."""
    cameras = [camera for kind in kinds for camera in camera_names(seed, kind)]
    return reliable_image_streams(scene_namespace(seed), cameras, endpoint)


def agent_overrides(seed: int) -> dict[str, object]:
    """The scene's cameras on one rig (camera 0 of the exact publisher is the body), code-only queries."""
    body = scene_of(seed, "exact").cameras[0].T_world_camera(0.0)
    extrinsics: dict[str, list[float]] = {}
    for kind in KINDS:
        extrinsics.update(rig_extrinsics(scene_of(seed, kind), body))
    return {
        **rig_camera_parameters(extrinsics, RIG_POSE),
        # Nothing listens here: the survey runs code only.
        "llm.base_url": "http://127.0.0.1:9/v1",
        "buffer.history_s": 30.0,
        "buffer.keyframe_hz": 2.0 * RATE_HZ,
        "buffer.max_memory_mb": 256.0,
        **reliable(seed, KINDS, "subscription"),
    }


@dataclass
class SurveyResult:
    """Checks per depth kind, failed queries, per-scene timings, and where the table goes (JSON)."""

    checks: dict[str, list[Check]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    failures: list[str] = field(default_factory=list)
    seconds_per_scene: list[float] = field(default_factory=list)
    output: Path | None = None


def _sim_spec(seed: int, kind: str) -> NodeSpec:
    names = camera_names(seed, kind)
    return NodeSpec(
        executable="sim_camera_publisher",
        name=f"sim_{kind}",
        namespace=scene_namespace(seed),
        # The demo's publisher settings under this node's own name, then this run's scene.
        parameters=(
            _sim_settings(),
            {"scene.seed": seed, "cameras": names, "depth.noise": kind == "noisy", **DEPTH_LAG},
            reliable(seed, (kind,), "publisher"),
        ),
        remappings=(
            (f"{names[0]}/pose", RIG_POSE),
            ("sim/ground_truth", f"sim/ground_truth_{kind}"),
        ),
    )


def _agent_spec(seed: int) -> NodeSpec:
    return NodeSpec(
        executable="spatial_agent",
        name="spatial_agent",
        namespace=scene_namespace(seed),
        parameters=(str(PARAMS_FILE), agent_overrides(seed)),
    )


def _survey_scene(
    seed: int, truths: dict[str, GroundTruth], agent: _SceneAgent, result: SurveyResult
) -> None:
    """Ask the scene's survey (both depth kinds in one snapshot) and check every answer."""
    asked = {kind: generate_questions(truth.scene) for kind, truth in truths.items()}
    specs = [
        question.spec(f"{kind}.", camera_names(seed, kind))
        for kind, questions in asked.items()
        for question in questions
    ]
    cameras = [name for kind in KINDS for name in camera_names(seed, kind)]
    options = QueryOptions(cameras=cameras, window_s=WINDOW_S, code=survey_cell(specs))
    answer = agent.client.query(f"accuracy survey of scene {seed}", options, wait_s=120.0)
    if agent.process.poll() is not None:
        result.failures.append(f"scene {seed}: the agent died (exit {agent.process.poll()})")
    if answer.error_code != SpatialAnswer.NONE:
        result.failures.append(f"scene {seed}: {answer.error_message}")
        return
    values = survey_values(answer.answer)
    for kind, questions in asked.items():
        for question in questions:
            value = values.get(f"{kind}.{question.id}", {"error": "not answered"})
            result.checks[kind] += check_answer(question, value, truths[kind])


class _SceneAgent(ExitStack):
    """A scene's spatial_agent process, a planner client of it and its diagnostics; closing stops all."""

    def __init__(self, node, seed: int, directory: Path) -> None:
        super().__init__()
        name = f"{scene_namespace(seed)}/spatial_agent"
        try:
            self.process = self.enter_context(
                running(node_command(_agent_spec(seed), directory), f"agent_{seed:02d}", directory)
            )
            self.client = SpatialClawClient(agent=name, node_name=f"planner_{seed:02d}", context=node.context)
            self.callback(self.client.destroy)
            self.cameras = AgentCameras(node, name)
            self.callback(self.cameras.close)
        except BaseException:
            self.close()
            raise


@pytest.fixture(scope="session")
def survey(tmp_path_factory) -> Iterator[SurveyResult]:
    """Run every scene through its own agent; yields the checks of both depth kinds.

    The next scene's agent starts while a scene's query runs, so that it listens from the first
    frame its publishers send.
    """
    directory = Path(tempfile.mkdtemp(prefix="spatialclaw-accuracy-"))
    rate_hz = float(_sim_settings()["rate_hz"])
    ticks = int(WINDOW_S * rate_hz) + 2
    result = SurveyResult()
    try:
        with spinning_node("accuracy_observer") as node, ExitStack() as agents:
            next_agent = agents.enter_context(_SceneAgent(node, SEEDS[0], directory))
            for position, seed in enumerate(SEEDS):
                started = time.monotonic()
                with next_agent as agent:
                    truths = _publish_scene(node, agent, seed, ticks, directory)
                    if position + 1 < len(SEEDS):
                        next_agent = agents.enter_context(_SceneAgent(node, SEEDS[position + 1], directory))
                    _survey_scene(seed, truths, agent, result)
                result.seconds_per_scene.append(time.monotonic() - started)
    except BaseException:
        _print_logs(directory)
        raise
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    result.output = tmp_path_factory.mktemp("accuracy") / "accuracy.json"
    yield result


def _print_logs(directory: Path) -> None:
    """The tail of the output of the latest scene's processes (its agent and its two publishers)."""
    for log in sorted(directory.glob("*.log"), key=lambda path: path.stat().st_mtime)[-3:]:
        print(f"--- {log.stem} output ---\n{log.read_text(errors='replace')[-4000:]}")


def _publish_scene(
    node, agent: _SceneAgent, seed: int, ticks: int, directory: Path
) -> dict[str, GroundTruth]:
    """Run both publishers of one scene until its agent holds ``ticks`` frames of every camera and
    their label maps, then stop them; their ground truths."""
    namespace = scene_namespace(seed)
    with ExitStack() as stack:
        listeners, counters = {}, {}
        for kind in KINDS:
            spec = _sim_spec(seed, kind)
            stack.enter_context(running(node_command(spec, directory), f"{spec.name}_{seed:02d}", directory))
            listeners[kind] = GroundTruthListener(node, f"{namespace}/sim/ground_truth_{kind}")
            counters[kind] = TickCounter(node, f"{namespace}/{camera_names(seed, kind)[-1]}")
            stack.callback(listeners[kind].close)
            stack.callback(counters[kind].close)
        truths = {kind: listeners[kind].wait(SCENE_WAIT_S) for kind in KINDS}
        for kind in KINDS:
            counters[kind].wait(ticks, SCENE_WAIT_S)
        # The agent may lag the observer by a tick or two; what matters is that every label map is in.
        agent.cameras.wait(
            [name for kind in KINDS for name in camera_names(seed, kind)], ticks - 2, True, SCENE_WAIT_S
        )
        return truths
