"""Every interface type, filled with non-default values, survives a publisher → subscriber round trip."""

from __future__ import annotations

import pytest
from builtin_interfaces.msg import Duration, Time
from geometry_msgs.msg import Point, Pose, PoseStamped, Quaternion, Vector3
from nav_msgs.msg import Path
from rclpy.qos import QoSProfile, ReliabilityPolicy
from std_msgs.msg import Header

from spatialclaw_ros.action import SpatialQuery as SpatialQueryAction
from spatialclaw_ros.msg import Measurement, SpatialAnswer, SpatialObject, Trajectory
from spatialclaw_ros.srv import SpatialQuery as SpatialQueryService

from support.ros_spin import spinning_node, wait_until

pytestmark = pytest.mark.ros


def header(frame_id: str = "map", sec: int = 1_700_000_000, nanosec: int = 250_000_000) -> Header:
    return Header(stamp=Time(sec=sec, nanosec=nanosec), frame_id=frame_id)


def measurement() -> Measurement:
    return Measurement(
        header=header("odom"),
        type=Measurement.DISTANCE,
        name="chair_to_door",
        value=2.375,
        unit="m",
        stddev=0.04,
        subjects=["red chair", "door"],
        points=[Point(x=1.0, y=-2.0, z=0.5), Point(x=3.0, y=-1.0, z=0.5)],
    )


def spatial_object() -> SpatialObject:
    return SpatialObject(
        header=header("map"),
        id="chair_0",
        label="red chair",
        pose=Pose(
            position=Point(x=1.5, y=0.25, z=0.45), orientation=Quaternion(x=0.0, y=0.0, z=0.7071, w=0.7071)
        ),
        size=Vector3(x=0.5, y=0.55, z=0.9),
        score=0.875,
    )


def trajectory() -> Trajectory:
    poses = [
        PoseStamped(header=header("map", sec=100 + i), pose=Pose(position=Point(x=0.5 * i, y=1.0, z=0.0)))
        for i in range(3)
    ]
    return Trajectory(id="person_0", label="person", path=Path(header=header("map"), poses=poses))


def spatial_answer() -> SpatialAnswer:
    return SpatialAnswer(
        header=header("map"),
        query_id="0123456789abcdef",
        question="how far is the red chair from the door?",
        answer="2.4",
        error_code=SpatialAnswer.TF_ERROR,
        error_message="no transform map -> camera",
        measurements=[measurement()],
        objects=[spatial_object()],
        trajectories=[trajectory()],
        source_stamps=[Time(sec=5, nanosec=6), Time(sec=7, nanosec=8)],
        steps=4,
        elapsed=Duration(sec=3, nanosec=500),
        trace_uri="file:///tmp/traces/0123456789abcdef/report.html",
    )


REQUEST_FIELDS = dict(
    question="which way did the person walk?",
    cameras=["front", "left"],
    window_s=20.0,
    max_frames=12,
    target_frame="odom",
    answer_type="choice",
    choices=["left", "right"],
    code="ReturnAnswer('left')",
    timeout_s=45.5,
)

SAMPLES = [
    measurement(),
    spatial_object(),
    trajectory(),
    spatial_answer(),
    SpatialQueryService.Request(**REQUEST_FIELDS),
    SpatialQueryService.Response(result=spatial_answer()),
    SpatialQueryAction.Goal(**REQUEST_FIELDS),
    SpatialQueryAction.Result(result=spatial_answer()),
    SpatialQueryAction.Feedback(
        stage="step", step=3, max_steps=12, summary="segmented the chair", elapsed_s=4.25
    ),
]


def test_constants_are_pinned():
    assert [SpatialAnswer.NONE, SpatialAnswer.NO_DATA, SpatialAnswer.TF_ERROR] == [0, 1, 9]
    assert (Measurement.DISTANCE, Measurement.COUNT, Measurement.OTHER) == (0, 7, 8)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: type(sample).__name__)
def test_round_trip(sample):
    received = []
    topic = f"round_trip/{type(sample).__name__.lower()}"
    qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    with spinning_node("round_trip") as node:
        publisher = node.create_publisher(type(sample), topic, qos)
        node.create_subscription(type(sample), topic, received.append, qos)
        wait_until(lambda: publisher.get_subscription_count() > 0, 10.0, "the subscriber to match")
        publisher.publish(sample)
        wait_until(lambda: received, 10.0, f"a {type(sample).__name__} message")
    assert received[0] == sample
    assert received[0] != type(sample)()
