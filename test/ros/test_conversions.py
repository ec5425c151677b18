"""Answer payloads become SpatialAnswer fields, moved into the target frame."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spatialclaw_ros.geometry import make_transform, rotation_about_axis
from spatialclaw_ros.msg import Measurement, SpatialAnswer
from spatialclaw_ros.ros.conversions import fill_answer, seconds_to_time

pytestmark = pytest.mark.ros

# Target frame = world turned +90° about z and shifted 1 m along x: world (1, 0, 0) → target (1, 1, 0).
T_TARGET_WORLD = make_transform(rotation_about_axis([0.0, 0.0, 1.0], math.pi / 2), [1.0, 0.0, 0.0])

PAYLOAD = {
    "answer": "2.0",
    "value": 2.0,
    "measurements": [
        {
            "name": "a_to_b",
            "type": "distance",
            "value": 2.0,
            "unit": "m",
            "stddev": None,
            "subjects": ["a", "b"],
            "points": [[1.0, 0.0, 0.0], [3.0, 0.0, 0.0]],
        }
    ],
    "objects": [
        {
            "id": "box_0",
            "label": "box",
            "center": [1.0, 0.0, 0.5],
            "size": [0.4, 0.2, 1.0],
            "orientation_xyzw": [0.0, 0.0, 0.0, 1.0],
            "score": 0.8,
        }
    ],
    "trajectories": [
        {"id": "person_0", "label": "person", "stamps": [10.0, 10.5], "positions": [[0, 0, 0], [1, 0, 0]]}
    ],
}


def filled() -> SpatialAnswer:
    answer = SpatialAnswer()
    answer.header.frame_id = "target"
    return fill_answer(answer, PAYLOAD, T_target_world=T_TARGET_WORLD, measured_stamp_s=12.25)


def test_measurement_points_move_into_the_target_frame():
    (measurement,) = filled().measurements
    assert measurement.type == Measurement.DISTANCE
    assert math.isnan(measurement.stddev), "unknown stddev travels as NaN"
    start, end = measurement.points
    assert (start.x, start.y, start.z) == pytest.approx((1.0, 1.0, 0.0))
    assert (end.x, end.y, end.z) == pytest.approx((1.0, 3.0, 0.0))
    assert measurement.header.frame_id == "target"
    assert (measurement.header.stamp.sec, measurement.header.stamp.nanosec) == (12, 250_000_000)


def test_object_pose_composes_the_frame_rotation():
    (item,) = filled().objects
    position, orientation = item.pose.position, item.pose.orientation
    assert (position.x, position.y, position.z) == pytest.approx((1.0, 1.0, 0.5))
    expected = (0.0, 0.0, math.sin(math.pi / 4), math.cos(math.pi / 4))
    assert (orientation.x, orientation.y, orientation.z, orientation.w) == pytest.approx(expected)
    assert (item.size.x, item.size.y, item.size.z, item.score) == pytest.approx((0.4, 0.2, 1.0, 0.8))


def test_trajectory_keeps_each_position_stamp():
    (trajectory,) = filled().trajectories
    stamps = [(p.header.stamp.sec, p.header.stamp.nanosec) for p in trajectory.path.poses]
    assert stamps == [(10, 0), (10, 500_000_000)]
    end = trajectory.path.poses[1].pose.position
    assert (end.x, end.y) == pytest.approx((1.0, 1.0))
    assert trajectory.path.header.frame_id == "target"


def test_answer_text_and_bad_transform():
    assert filled().answer == "2.0"
    with pytest.raises(ValueError, match="4×4"):
        fill_answer(SpatialAnswer(), PAYLOAD, T_target_world=np.eye(3), measured_stamp_s=0.0)


def test_seconds_to_time_rounds_to_the_nanosecond():
    stamp = seconds_to_time(1.9999999999)
    assert (stamp.sec, stamp.nanosec) == (2, 0)
