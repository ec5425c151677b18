"""Complete frames over real topics: depth sent on its own topic, late, early or never, in real processes.

The simulated camera sends each depth message 0–40 ms after its colour image (now and then 5 ms
before it) and drops 5 % of them. Every latest-frame snapshot must carry depth whenever depth was
sent for its frame and arrived within the pairing deadline (on a loaded machine a message can take
longer than the deadline: its frame is then complete without it, which the test tells apart by the
arrival times it sees itself); a frame whose depth was dropped shows only after its deadline, marked.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path

import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from spatialclaw_ros.msg import SpatialAnswer
from spatialclaw_ros.ros.client import SpatialClawClient

from support.ros_processes import installed_executable, ros_args, running
from support.ros_spin import spinning_node, wait_until

_spec = importlib.util.spec_from_file_location(
    "ingest_support", Path(__file__).with_name("ingest_support.py")
)
support = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(support)

pytestmark = pytest.mark.ros

NAMESPACE = "/depth_pairing"
PAIRING_WAIT_S = 0.1
RELIABLE = "reliable"
SNAPSHOTS = 200
#: The test's own subscriptions see a message at about the moment the ingest does; within this, either.
ARRIVAL_SLACK_S = 0.02


def sim_command(namespace: str, cameras: list[str], **parameters: object) -> list[str]:
    reliable = {
        f"qos_overrides.{namespace}/{camera}/{topic}.publisher.reliability": RELIABLE
        for camera in cameras
        for topic in ("image_raw", "depth/image_raw")
    }
    return [
        str(installed_executable("sim_camera_publisher")),
        *ros_args(
            namespace=namespace,
            parameters={
                "cameras": cameras,
                "rate_hz": 10.0,
                "width": 160,
                "height": 120,
                "labels.enabled": False,
                "scene.seed": 5,
                **reliable,
                **parameters,
            },
        ),
    ]


def stamp_ns(message: Image) -> int:
    return message.header.stamp.sec * support.NS + message.header.stamp.nanosec


def test_latest_frames_carry_depth_whenever_it_was_sent():
    camera = "front"
    lag = {"depth.lag_min_s": -0.005, "depth.lag_max_s": 0.040, "depth.drop_ratio": 0.05}
    subscriptions = {
        f"qos_overrides.{NAMESPACE}/{camera}/{topic}.subscription.reliability": RELIABLE
        for topic in ("image_raw", "depth/image_raw")
    }
    colour_arrived: dict[int, float] = {}
    depth_arrived: dict[int, float] = {}
    lock = threading.Lock()

    def on_colour(message: Image) -> None:
        with lock:
            colour_arrived[stamp_ns(message)] = time.monotonic()

    def on_depth(message: Image) -> None:
        with lock:
            depth_arrived[stamp_ns(message)] = time.monotonic()

    parameters = {"pose.source": "none", **subscriptions}
    with support.ingest_node(NAMESPACE, [camera], parameters, keyframe_hz=2.0) as (node, buffer, _ingest):
        assert buffer.pairing_wait_s == PAIRING_WAIT_S
        reliable = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
        node.create_subscription(Image, f"{camera}/image_raw", on_colour, reliable)
        node.create_subscription(Image, f"{camera}/depth/image_raw", on_depth, reliable)
        with running(sim_command(NAMESPACE, [camera], **lag), name="sim_lagging_depth"):
            wait_until(
                lambda: buffer.stats().get(camera) and buffer.stats()[camera].depth_kept, 30.0, "depth"
            )
            taken = []
            for _ in range(SNAPSHOTS):
                (frame,) = buffer.select([camera], 0.0, 1)
                taken.append((frame, time.monotonic()))
                time.sleep(0.05)
            # Depth comes in stamp order, at most 40 ms late: once a later tick's depth is in, every
            # depth message of the snapshots' frames that was sent has arrived.
            last_taken = max(frame.stamp_ns for frame, _ in taken)

            def later_depth_arrived() -> bool:
                with lock:
                    return any(stamp > last_taken for stamp in depth_arrived)

            wait_until(later_depth_arrived, 10.0, "a depth message after the last snapshot's frame")
            stats = buffer.stats()[camera]
    with lock:
        sent, arrived = dict(depth_arrived), dict(colour_arrived)
    assert stats.depth_missed >= 1, "the publisher drops 5 % of depth messages"
    for frame, selected_at in taken:
        colour_at = arrived[frame.stamp_ns]
        depth_lag_s = sent[frame.stamp_ns] - colour_at if frame.stamp_ns in sent else None
        if depth_lag_s is not None and depth_lag_s < PAIRING_WAIT_S - ARRIVAL_SLACK_S:
            assert frame.depth_message is not None, (
                f"frame {frame.stamp_ns} lost its depth: it arrived {depth_lag_s * 1e3:.1f} ms after the "
                f"colour image, the snapshot was taken {(selected_at - colour_at) * 1e3:.1f} ms after it"
            )
        elif frame.depth_message is None:
            # Dropped, or later than the deadline (a loaded machine): shown only after the deadline, marked.
            assert depth_lag_s is None or depth_lag_s > PAIRING_WAIT_S - ARRIVAL_SLACK_S
            assert frame.depth_expected
            assert selected_at - colour_at >= PAIRING_WAIT_S - ARRIVAL_SLACK_S, "shown before its deadline"
    distinct = {frame.stamp_ns for frame, _ in taken}
    assert len(distinct) >= 50, "200 snapshots 50 ms apart follow a 10 Hz camera"


DEPTH_OF_LATEST = "ReturnAnswer(all(frames.by_camera(c)[-1].depth is not None for c in frames.cameras))"


@pytest.fixture(scope="module")
def planner(tmp_path_factory):
    """The node with two lagging depth cameras: `front` with NAME.depth auto, `left` with true."""
    namespace = "/depth_planner"
    cameras = ["front", "left"]
    lag = {"depth.lag_min_s": 0.0, "depth.lag_max_s": 0.040}
    agent_parameters = {
        "cameras": cameras,
        "left.depth": True,
        "pose.source": "none",
        "perception.segmenter": "none",
        "perception.depth": "none",
        "perception.reconstructor": "none",
        "kernel.pool_size": 2,
        "trace.dir": str(tmp_path_factory.mktemp("traces")),
        **{
            f"qos_overrides.{namespace}/{camera}/{topic}.subscription.reliability": RELIABLE
            for camera in cameras
            for topic in ("image_raw", "depth/image_raw")
        },
    }
    agent = [
        str(installed_executable("spatial_agent")),
        *ros_args(namespace=namespace, parameters=agent_parameters),
    ]
    with (
        running(sim_command(namespace, cameras, **lag), name="sim_two_depth_cameras"),
        running(agent, name="spatial_agent"),
        spinning_node("depth_planner_observer") as node,
    ):
        client = SpatialClawClient(
            f"{namespace}/spatial_agent", node_name="depth_planner", context=node.context
        )
        client.wait_until_ready(timeout_s=60.0)
        wait_until(
            lambda: client.query("both?", code="ReturnAnswer(len(frames.cameras))").answer == "2",
            60.0,
            "frames of both cameras",
        )
        yield client
        client.destroy()


def test_a_planner_sees_depth_on_every_latest_frame(planner):
    answers = [planner.query("depth?", code=DEPTH_OF_LATEST, answer_type="boolean") for _ in range(30)]
    assert [a.error_code for a in answers] == [SpatialAnswer.NONE] * 30, answers[0].error_message
    assert [a.answer for a in answers] == ["true"] * 30
    for answer in answers:
        assert {frame.camera for frame in answer.source_frames} == {"front", "left"}
        for frame in answer.source_frames:
            assert frame.depth_source == "sensor" and not frame.depth_missing
            assert abs(frame.depth_offset_s) < 1e-9, "registered depth carries its colour image's stamp"
