"""One spatial_agent for every scene of the accuracy survey, and the survey itself (real processes).

Each generated scene is published twice at once, by two sim publishers: exact depth (cameras
``sNNc0..3``) and the depth noise model (``sNNn0..3``). The agent knows every camera of every scene
from the start: a rig's cameras are fixed relative to its first camera, whose pose both publishers
send on ``rig/pose`` (their twin cameras stand in the same places). Per scene the publishers run
until a window of frames is buffered, then stop; the two survey queries (one per depth kind) run
while the next scene's publishers start.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from spatialclaw_ros.msg import SpatialAnswer
from spatialclaw_ros.ros.client import QueryOptions, SpatialClawClient
from spatialclaw_ros.ros.launch_spec import NodeSpec, rig_camera_parameters, rig_extrinsics
from spatialclaw_ros.sim import GroundTruth, generate_scene
from spatialclaw_ros.sim.demo import (
    AgentCameras,
    GroundTruthListener,
    TickCounter,
    node_command,
    running,
    spinning_node,
)
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
# Longest wait for a scene's publishers (ground truth, ticks, frames at the agent), seconds: they
# start while the previous scene's query keeps both cores busy. Waits end as soon as data is in.
SCENE_WAIT_S = 90.0
KINDS = ("exact", "noisy")


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


def agent_overrides() -> dict[str, object]:
    extrinsics: dict[str, list[float]] = {}
    for seed in SEEDS:
        body = scene_of(seed, "exact").cameras[0].T_world_camera(0.0)
        for kind in KINDS:
            extrinsics.update(rig_extrinsics(scene_of(seed, kind), body))
    return {
        **rig_camera_parameters(extrinsics, RIG_POSE),
        # Nothing listens here: the survey runs code only.
        "llm.base_url": "http://127.0.0.1:9/v1",
        "buffer.history_s": 30.0,
        "buffer.keyframe_hz": 2.0 * RATE_HZ,
        "buffer.max_memory_mb": 256.0,
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
        name=f"sim_{seed:02d}_{kind}",
        namespace=NAMESPACE,
        # The demo's publisher settings under this node's own name, then this run's scene.
        parameters=(_sim_settings(), {"scene.seed": seed, "cameras": names, "depth.noise": kind == "noisy"}),
        remappings=(
            (f"{names[0]}/pose", RIG_POSE),
            ("sim/ground_truth", f"sim/ground_truth_{seed:02d}_{kind}"),
        ),
    )


class _Survey:
    """Runs each scene's survey query (both depth kinds in one snapshot) in a background thread."""

    def __init__(self, client: SpatialClawClient, result: SurveyResult) -> None:
        self.client = client
        self.result = result
        self.thread: threading.Thread | None = None

    def ask(self, seed: int, truths: dict[str, GroundTruth]) -> None:
        self.join()
        self.thread = threading.Thread(target=self._ask, args=(seed, truths), daemon=True)
        self.thread.start()

    def _ask(self, seed: int, truths: dict[str, GroundTruth]) -> None:
        asked = {kind: generate_questions(truth.scene) for kind, truth in truths.items()}
        specs = [
            question.spec(f"{kind}.", camera_names(seed, kind))
            for kind, questions in asked.items()
            for question in questions
        ]
        cameras = [name for kind in KINDS for name in camera_names(seed, kind)]
        options = QueryOptions(cameras=cameras, window_s=WINDOW_S, code=survey_cell(specs))
        answer = self.client.query(f"accuracy survey of scene {seed}", options, wait_s=120.0)
        if answer.error_code != SpatialAnswer.NONE:
            self.result.failures.append(f"scene {seed}: {answer.error_message}")
            return
        values = survey_values(answer.answer)
        for kind, questions in asked.items():
            for question in questions:
                value = values.get(f"{kind}.{question.id}", {"error": "not answered"})
                self.result.checks[kind] += check_answer(question, value, truths[kind])

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join(timeout=150.0)
            self.thread = None


@pytest.fixture(scope="session")
def survey(tmp_path_factory) -> Iterator[SurveyResult]:
    """Run every scene through one agent; yields the checks of both depth kinds."""
    directory = Path(tempfile.mkdtemp(prefix="spatialclaw-accuracy-"))
    rate_hz = float(_sim_settings()["rate_hz"])
    ticks = int(WINDOW_S * rate_hz) + 2
    agent = NodeSpec(
        executable="spatial_agent",
        name="spatial_agent",
        namespace=NAMESPACE,
        parameters=(str(PARAMS_FILE), agent_overrides()),
    )
    result = SurveyResult()
    try:
        with (
            running(node_command(agent, directory), "spatial_agent", directory) as agent_process,
            spinning_node("accuracy_observer") as node,
        ):
            client = SpatialClawClient(
                agent=f"{NAMESPACE}/spatial_agent", node_name="accuracy_planner", context=node.context
            )
            survey = _Survey(client, result)
            cameras = AgentCameras(node, f"{NAMESPACE}/spatial_agent")
            try:
                client.wait_until_ready(timeout_s=60.0)
                for seed in SEEDS:
                    started = time.monotonic()
                    truths = _publish_scene(node, cameras, seed, ticks, directory)
                    survey.ask(seed, truths)
                    result.seconds_per_scene.append(time.monotonic() - started)
                survey.join()
            finally:
                cameras.close()
                client.destroy()
            assert agent_process.poll() is None, "the agent died during the survey"
    except BaseException:
        _print_logs(directory)
        raise
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    result.output = tmp_path_factory.mktemp("accuracy") / "accuracy.json"
    yield result


def _print_logs(directory: Path) -> None:
    """The tail of every process's output: the agent's, then the publishers' of the latest scenes."""
    logs = sorted(directory.glob("*.log"), key=lambda path: (path.name != "spatial_agent.log", path.name))
    for log in logs[:1] + logs[-4:]:
        print(f"--- {log.stem} output ---\n{log.read_text(errors='replace')[-4000:]}")


def _publish_scene(
    node, agent: AgentCameras, seed: int, ticks: int, directory: Path
) -> dict[str, GroundTruth]:
    """Run both publishers of one scene until the agent holds ``ticks`` frames of every camera and
    their label maps, then stop them; their ground truths."""
    with ExitStack() as stack:
        listeners, counters = {}, {}
        for kind in KINDS:
            spec = _sim_spec(seed, kind)
            stack.enter_context(running(node_command(spec, directory), spec.name, directory))
            listeners[kind] = GroundTruthListener(node, f"{NAMESPACE}/sim/ground_truth_{seed:02d}_{kind}")
            counters[kind] = TickCounter(node, f"{NAMESPACE}/{camera_names(seed, kind)[-1]}")
            stack.callback(listeners[kind].close)
            stack.callback(counters[kind].close)
        truths = {kind: listeners[kind].wait(SCENE_WAIT_S) for kind in KINDS}
        for kind in KINDS:
            counters[kind].wait(ticks, SCENE_WAIT_S)
        # The agent may lag the observer by a tick or two; what matters is that every label map is in.
        agent.wait(
            [name for kind in KINDS for name in camera_names(seed, kind)], ticks - 2, True, SCENE_WAIT_S
        )
        return truths
