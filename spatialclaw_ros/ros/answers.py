"""SpatialAnswer messages from the engine's answers.

Convention:
    ``elapsed`` is wall time from receiving the request; ``header.stamp`` is the node's clock when the
    answer was made; ``header.frame_id`` is the frame every pose of the answer is expressed in.
"""

from __future__ import annotations

from typing import Any

from builtin_interfaces.msg import Duration
from rclpy.clock import Clock

from spatialclaw_ros.engine import Answer
from spatialclaw_ros.msg import SpatialAnswer
from spatialclaw_ros.protocol import ErrorCode
from spatialclaw_ros.ros.conversions import fill_answer, source_frame


def seconds_to_duration(seconds: float) -> Duration:
    """A non-negative ``builtin_interfaces/Duration`` from seconds."""
    nanoseconds = max(0, round(seconds * 1e9))
    return Duration(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def answer_message(answer: Answer, clock: Clock) -> SpatialAnswer:
    """The SpatialAnswer of an engine answer, stamped with ``clock`` now."""
    message = SpatialAnswer()
    message.header.stamp = clock.now().to_msg()
    message.header.frame_id = answer.frame_id
    message.query_id = answer.query_id
    message.question = answer.question
    message.error_code = answer.error_code.number
    message.error_message = answer.error_message
    fill_answer(message, answer)
    message.source_frames = [source_frame(frame) for frame in answer.source_frames]
    message.elapsed = seconds_to_duration(answer.elapsed_s)
    return message


def error_answer(
    request: Any, *, query_id: str, error_code: ErrorCode, error_message: str, elapsed_s: float, clock: Clock
) -> SpatialAnswer:
    """An answer to ``request`` (a srv/SpatialQuery request or goal) that reports ``error_code`` and why."""
    answer = Answer.failure(
        query_id, request.question, error_code, error_message, request.target_frame, elapsed_s
    )
    return answer_message(answer, clock)
