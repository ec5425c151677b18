"""Answer payloads become SpatialAnswer fields, in the snapshot's world frame (the answer's frame)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spatialclaw_ros.agent import ErrorCode, MeasurementResult, ObjectResult, QueryOutcome, TrajectoryResult
from spatialclaw_ros.msg import Measurement, SpatialAnswer
from spatialclaw_ros.ros.conversions import fill_answer, seconds_to_time

pytestmark = pytest.mark.ros

QUARTER_TURN_XYZW = (0.0, 0.0, math.sin(math.pi / 4), math.cos(math.pi / 4))  # +90° about z

OUTCOME = QueryOutcome(
    query_id="q",
    question="how far?",
    answer="2.0",
    error_code=ErrorCode.NONE,
    error_message="",
    measurements=(
        MeasurementResult(
            name="a_to_b",
            type="distance",
            value=2.0,
            unit="m",
            stddev=math.nan,
            subjects=("a", "b"),
            points=np.array([[1.0, 0.0, 0.0], [3.0, 0.0, 0.0]]),
        ),
    ),
    objects=(
        ObjectResult(
            id="box_0",
            label="box",
            center=np.array([1.0, 0.0, 0.5]),
            size=np.array([0.4, 0.2, 1.0]),
            orientation_xyzw=2.0 * np.array(QUARTER_TURN_XYZW),
            score=0.8,
        ),
    ),
    trajectories=(
        TrajectoryResult(
            id="person_0",
            label="person",
            stamps=np.array([10.0, 10.5]),
            positions=np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]),
        ),
    ),
    source_stamps=(12.25, 11.0),
    world_frame="map",
    steps=3,
    elapsed_s=1.5,
    trace_uri="file:///tmp/trace/report.html",
)


def filled() -> SpatialAnswer:
    answer = SpatialAnswer()
    answer.header.frame_id = "map"
    return fill_answer(answer, OUTCOME)


def test_measurement_points_keep_their_coordinates():
    (measurement,) = filled().measurements
    assert measurement.type == Measurement.DISTANCE
    assert math.isnan(measurement.stddev), "unknown stddev travels as NaN"
    start, end = measurement.points
    assert (start.x, start.y, start.z) == (1.0, 0.0, 0.0)
    assert (end.x, end.y, end.z) == (3.0, 0.0, 0.0)
    assert measurement.header.frame_id == "map"
    assert (measurement.header.stamp.sec, measurement.header.stamp.nanosec) == (12, 250_000_000)


def test_object_pose_carries_a_unit_quaternion():
    (item,) = filled().objects
    position, orientation = item.pose.position, item.pose.orientation
    assert (position.x, position.y, position.z) == (1.0, 0.0, 0.5)
    assert (orientation.x, orientation.y, orientation.z, orientation.w) == pytest.approx(QUARTER_TURN_XYZW)
    assert (item.size.x, item.size.y, item.size.z, item.score) == pytest.approx((0.4, 0.2, 1.0, 0.8))


def test_trajectory_keeps_each_position_stamp():
    (trajectory,) = filled().trajectories
    stamps = [(p.header.stamp.sec, p.header.stamp.nanosec) for p in trajectory.path.poses]
    assert stamps == [(10, 0), (10, 500_000_000)]
    end = trajectory.path.poses[1].pose.position
    assert (end.x, end.y) == (1.0, 0.0)
    assert trajectory.path.header.frame_id == "map"


def test_answer_text_stamps_steps_and_trace():
    answer = filled()
    assert (answer.answer, answer.steps, answer.trace_uri) == ("2.0", 3, "file:///tmp/trace/report.html")
    assert [(t.sec, t.nanosec) for t in answer.source_stamps] == [(11, 0), (12, 250_000_000)]


def test_seconds_to_time_rounds_to_the_nanosecond():
    stamp = seconds_to_time(1.9999999999)
    assert (stamp.sec, stamp.nanosec) == (2, 0)
