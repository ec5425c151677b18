"""A SpatialAnswer built from texts with lone surrogates serializes: each one becomes U+FFFD."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rclpy.clock import Clock
from rclpy.serialization import deserialize_message, serialize_message

from spatialclaw_ros.agent import MeasurementResult, ObjectResult, TrajectoryResult
from spatialclaw_ros.engine import Answer
from spatialclaw_ros.msg import SpatialAnswer
from spatialclaw_ros.protocol import ErrorCode
from spatialclaw_ros.ros.answers import answer_message

pytestmark = pytest.mark.ros

LONE = "\ud800"


def test_answer_texts_with_lone_surrogates_reach_the_wire_as_replacement_characters():
    answer = Answer(
        query_id="q",
        question="which?",
        error_code=ErrorCode.NONE,
        error_message=f"note{LONE}",
        answer=f"a{LONE}b",
        frame_id="world",
        measurements=(
            MeasurementResult(f"m{LONE}", "distance", 1.0, "m", math.nan, (f"s{LONE}",), np.zeros((1, 3))),
        ),
        objects=(ObjectResult(f"o{LONE}", f"l{LONE}", np.zeros(3), np.ones(3), np.eye(4)[3], 1.0),),
        trajectories=(TrajectoryResult(f"t{LONE}", f"p{LONE}", np.array([0.0]), np.zeros((1, 3))),),
    )
    message = deserialize_message(serialize_message(answer_message(answer, Clock())), SpatialAnswer)
    assert (message.answer, message.error_message) == ("a\ufffdb", "note\ufffd")
    measurement = message.measurements[0]
    assert (measurement.name, list(measurement.subjects)) == ("m\ufffd", ["s\ufffd"])
    assert (message.objects[0].id, message.objects[0].label) == ("o\ufffd", "l\ufffd")
    assert (message.trajectories[0].id, message.trajectories[0].label) == ("t\ufffd", "p\ufffd")
