"""Queries end to end, in real processes: sim camera → spatial_agent → planner client.

A simulated camera with exact ground truth publishes into the node; the tests ask through the service
and the action (``code`` programs and a scripted VLM over real HTTP) and check answers, outputs and
failures, and that the node keeps serving after each failure.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from geometry_msgs.msg import PoseArray
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image, PointCloud2
from std_msgs.msg import String
from visualization_msgs.msg import Marker, MarkerArray

from spatialclaw_ros.msg import SpatialAnswer
from spatialclaw_ros.ros.client import SpatialClawClient
from spatialclaw_ros.sim import GroundTruth, render

from support.ros_processes import installed_executable, ros_args, running
from support.ros_spin import spinning_node, wait_until
from support.scripted_vlm import ScriptedVLM

pytestmark = pytest.mark.ros

NAMESPACE = "/spatialclaw"
LATCHED = QoSProfile(
    depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
)

CENTRE_DEPTH_CELL = """
f = frames.by_camera("camera")[-1]
h, w = f.depth.shape
v, u = h // 2, w // 2
z = float(f.depth[v, u])
p_camera = np.array([(u - f.K[0, 2]) * z / f.K[0, 0], (v - f.K[1, 2]) * z / f.K[1, 1], z, 1.0])
p_world = (f.T_world_camera @ p_camera)[:3]
ReturnAnswer(z, measurements=[
    Measurement("centre_depth", z, "m", type="distance", subjects=("camera", "wall"),
                points=[f.T_world_camera[:3, 3], p_world]),
])
"""

SLEEP_CELL = "import time\ntime.sleep(60)\nReturnAnswer('woke up')"


def agent_parameters(**overrides) -> dict[str, object]:
    parameters: dict[str, object] = {
        "cameras": ["camera", "ghost"],
        "camera.depth": True,
        "pose.source": "topic",
        "pose.topic": "camera/pose",
        "pose.type": "pose_stamped",
        "buffer.keyframe_hz": 5.0,
        "perception.segmenter": "labels",
        "perception.depth": "sensor",
        "perception.reconstructor": "none",
        "kernel.pool_size": 2,
        "max_concurrent_queries": 2,
        "agent.timeout_s": 60.0,
        "output.points": True,
        "output.points_stride": 8,
    }
    parameters.update(overrides)
    return parameters


@pytest.fixture(scope="module")
def sim_camera():
    command = [
        installed_executable("sim_camera_publisher"),
        *ros_args(
            namespace=NAMESPACE,
            parameters={
                "cameras": ["camera"],
                "rate_hz": 5.0,
                "width": 320,
                "height": 240,
                "depth.encoding": "32FC1",
                "scene.seed": 3,
            },
        ),
    ]
    with running(command, name="sim_camera_publisher") as process:
        yield process


@pytest.fixture(scope="module")
def vlm():
    # The one ~/ask with a question (no code): a plan, then one step that measures the centre depth.
    replies = [
        {"content": "Plan: read the depth camera at the image centre; no segmentation needed."},
        {"content": "The depth camera gives the distance directly.\n```python\n" + CENTRE_DEPTH_CELL + "```"},
    ]
    with ScriptedVLM(replies) as server:
        yield server


@pytest.fixture(scope="module")
def agent(sim_camera, vlm, tmp_path_factory):
    traces = tmp_path_factory.mktemp("traces")
    command = [
        installed_executable("spatial_agent"),
        *ros_args(
            namespace=NAMESPACE,
            parameters=agent_parameters(**{"llm.base_url": vlm.base_url, "trace.dir": str(traces)}),
        ),
    ]
    with running(command, name="spatial_agent") as process:
        yield process
    assert process.returncode == 0, "SIGINT must shut the node down cleanly\n" + process.output[-4000:]


@pytest.fixture(scope="module")
def client(agent):
    with spinning_node("end_to_end_observer") as node:
        truth: list[String] = []
        node.create_subscription(String, f"{NAMESPACE}/sim/ground_truth", truth.append, LATCHED)
        planner = SpatialClawClient(
            agent=f"{NAMESPACE}/spatial_agent", node_name="end_to_end_planner", context=node.context
        )
        planner.wait_until_ready(timeout_s=60.0)
        wait_until(lambda: truth, 30.0, "the sim ground truth")
        wait_until(
            lambda: planner.query("ready?", code="ReturnAnswer('yes')").error_code == SpatialAnswer.NONE,
            60.0,
            "the first frames to reach the node",
        )
        planner.ground_truth = GroundTruth.from_json(truth[0].data)
        planner.observer = node
        yield planner
        planner.destroy()


def assert_still_serving(client: SpatialClawClient) -> None:
    answer = client.query("still there?", code="ReturnAnswer(len(frames))", answer_type="number")
    assert answer.error_code == SpatialAnswer.NONE, answer.error_message
    assert float(answer.answer) >= 1


@pytest.mark.smoke
def test_code_query_measures_the_centre_depth_against_ground_truth(client):
    markers: list[MarkerArray] = []
    objects: list[PoseArray] = []
    answers: list[SpatialAnswer] = []
    clouds: list[PointCloud2] = []
    images: list[Image] = []
    node = client.observer
    node.create_subscription(PointCloud2, f"{NAMESPACE}/spatial_agent/points", clouds.append, LATCHED)
    node.create_subscription(Image, f"{NAMESPACE}/spatial_agent/debug_image", images.append, LATCHED)
    node.create_subscription(MarkerArray, f"{NAMESPACE}/spatial_agent/markers", markers.append, 10)
    node.create_subscription(PoseArray, f"{NAMESPACE}/spatial_agent/objects", objects.append, 10)
    node.create_subscription(SpatialAnswer, f"{NAMESPACE}/spatial_agent/answers", answers.append, LATCHED)
    for topic in ("points", "debug_image", "markers", "objects", "answers"):
        name = f"{NAMESPACE}/spatial_agent/{topic}"
        wait_until(lambda name=name: node.count_publishers(name) > 0, 10.0, f"the node's {name} publisher")

    code = CENTRE_DEPTH_CELL + 'show(f.image, label="the view")\n'
    answer = client.query("how far is the wall?", code=code, answer_type="number")

    assert answer.error_code == SpatialAnswer.NONE, answer.error_message
    assert answer.header.frame_id == "map"
    (measurement,) = answer.measurements
    stamp = answer.source_stamps[-1]
    scene_time_s = client.ground_truth.scene_time_s(stamp.sec + stamp.nanosec * 1e-9)
    view = render(client.ground_truth.scene, "camera", t_s=scene_time_s)
    v, u = view.depth_m.shape[0] // 2, view.depth_m.shape[1] // 2
    expected_depth = float(view.depth_m[v, u])
    assert measurement.value == pytest.approx(expected_depth, abs=1e-4)
    assert float(answer.answer) == pytest.approx(expected_depth, abs=1e-4)
    ray = (
        np.array([(u - view.K[0, 2]) / view.K[0, 0], (v - view.K[1, 2]) / view.K[1, 1], 1.0]) * expected_depth
    )
    expected_point = view.T_world_camera[:3, :3] @ ray + view.T_world_camera[:3, 3]
    far_end = measurement.points[1]
    assert (far_end.x, far_end.y, far_end.z) == pytest.approx(tuple(expected_point), abs=1e-3)
    assert answer.trace_uri.startswith("file://") and Path(answer.trace_uri.removeprefix("file://")).is_file()

    wait_until(lambda: any(a.query_id == answer.query_id for a in answers), 10.0, "the answer on ~/answers")
    wait_until(lambda: markers, 10.0, "markers")
    namespaces = {marker.ns for marker in markers[-1].markers}
    assert {"distances", "distance_labels"} <= namespaces
    assert markers[-1].markers[0].action == Marker.DELETEALL

    wait_until(lambda: clouds and images, 10.0, "the point cloud and the debug image")
    cloud = clouds[-1]
    assert cloud.header.frame_id == "map" and cloud.width >= (320 // 8) * (240 // 8) // 2
    xyz = np.frombuffer(bytes(cloud.data), dtype="<f4").reshape(-1, 4)[:, :3]
    assert np.isfinite(xyz).all()
    assert np.min(np.linalg.norm(xyz - expected_point, axis=1)) < 0.05, (
        "the cloud contains the measured wall point"
    )
    assert (images[-1].width, images[-1].height, images[-1].encoding) == (320, 240, "rgb8")


def test_vlm_answers_through_the_action_with_feedback(client, vlm):
    feedback = []
    assert client.ask(
        "how far is the wall in front of the camera?", answer_type="number", feedback_callback=feedback.append
    )
    answer = client.get_result(wait_s=60.0)
    assert answer is not None and answer.error_code == SpatialAnswer.NONE, answer and answer.error_message
    assert answer.steps == 1
    assert float(answer.answer) > 0.0
    stages = [item.stage for item in feedback]
    assert stages[0] in ("kernel", "snapshot") and stages[-1] == "done"
    assert "step" in stages
    assert all(later.elapsed_s >= earlier.elapsed_s for earlier, later in itertools.pairwise(feedback))
    assert len(vlm.requests) == 2, "a planning call, then one step"
    assert not vlm.errors


@pytest.mark.smoke
def test_cancel_mid_step_ends_with_canceled(client):
    assert client.ask("sleep", code=SLEEP_CELL)
    wait_until(lambda: getattr(client.get_feedback(), "stage", "") == "step", 30.0, "the cell to start")
    started = time.monotonic()
    client.cancel()
    answer = client.get_result(wait_s=20.0)
    assert answer is not None and answer.error_code == SpatialAnswer.CANCELED
    assert time.monotonic() - started < 15.0
    assert_still_serving(client)


def test_two_concurrent_queries_and_a_third_is_rejected(client):
    context = client.observer.context
    second = SpatialClawClient(
        agent=f"{NAMESPACE}/spatial_agent", node_name="second_planner", context=context
    )
    third = SpatialClawClient(agent=f"{NAMESPACE}/spatial_agent", node_name="third_planner", context=context)
    try:
        slow = "import time\ntime.sleep(3)\nReturnAnswer(len(frames))"
        assert client.ask("first", code=slow, answer_type="number")
        assert second.ask("second", code=slow, answer_type="number")
        # Feedback comes once a goal's query holds its slot (it reports acquiring a kernel).
        wait_until(lambda: client.get_feedback() and second.get_feedback(), 30.0, "both queries running")
        assert not third.ask("third", code=slow), "a third goal must be rejected while two run"
        first_answer = client.get_result(wait_s=60.0)
        second_answer = second.get_result(wait_s=60.0)
        assert first_answer.error_code == SpatialAnswer.NONE, first_answer.error_message
        assert second_answer.error_code == SpatialAnswer.NONE, second_answer.error_message
    finally:
        second.destroy()
        third.destroy()
    assert_still_serving(client)


def test_camera_without_frames_answers_no_data(client):
    answer = client.query("what does the ghost camera see?", cameras=["ghost"], code="ReturnAnswer('x')")
    assert answer.error_code == SpatialAnswer.NO_DATA
    assert f"{NAMESPACE}/ghost/image_raw" in answer.error_message
    assert_still_serving(client)


def test_unknown_target_frame_answers_tf_error(client):
    answer = client.query("where?", target_frame="base_link", code="ReturnAnswer('x')")
    assert answer.error_code == SpatialAnswer.TF_ERROR
    assert "base_link" in answer.error_message
    assert_still_serving(client)


def test_query_past_its_time_budget_answers_timeout(client):
    started = time.monotonic()
    answer = client.query("sleep", code=SLEEP_CELL, timeout_s=4.0)
    assert answer.error_code == SpatialAnswer.TIMEOUT, answer.error_message
    assert time.monotonic() - started < 20.0
    assert_still_serving(client)


def test_invalid_answer_is_reported_not_crashed(client):
    answer = client.query("how many?", code="ReturnAnswer('many')", answer_type="number")
    assert answer.error_code == SpatialAnswer.AGENT_FAILED
    assert "number" in answer.error_message
    assert_still_serving(client)


def test_command_line_asks_and_prints_the_answer(client):
    command = [
        str(Path(sys.executable).with_name("spatialclaw")),
        "ask",
        "how many frames?",
        "--agent",
        f"{NAMESPACE}/spatial_agent",
        "--code",
        "ReturnAnswer(len(frames))",
        "--answer-type",
        "number",
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "answer: " in finished.stdout
    assert "done" in finished.stdout, "feedback lines are printed"
    failing = subprocess.run(
        [*command[:5], "--code", "ReturnAnswer('x')", "--cameras", "ghost"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert failing.returncode == 1
    assert "error 1:" in failing.stdout, "NO_DATA is error code 1"
