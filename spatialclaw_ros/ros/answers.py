"""SpatialAnswer messages from the engine's answers.

Convention:
    ``elapsed`` is wall time from receiving the request; ``header.stamp`` is the node's clock when the
    answer was made; ``header.frame_id`` is the frame every pose of the answer is expressed in.

Every text of the message is valid Unicode (:func:`~spatialclaw_ros.protocol.text.clean_text`): a ROS
string is UTF-8 on the wire, and a lone surrogate from a model or a kernel would fail its serialization.
"""

from __future__ import annotations

from typing import Any

from builtin_interfaces.msg import Duration
from rclpy.clock import Clock

from spatialclaw_ros.engine import Answer
from spatialclaw_ros.msg import SpatialAnswer
from spatialclaw_ros.protocol import ErrorCode
from spatialclaw_ros.protocol.text import clean_text
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
    return clean_answer_text(message)


def clean_answer_text(message: SpatialAnswer) -> SpatialAnswer:
    """``message`` with lone surrogates in its texts replaced by U+FFFD (in place); returns it.

    The texts: query id, question, answer, error message, trace URI, and the names, units, subjects,
    ids and labels of its measurements, objects and trajectories.
    """
    for field in ("query_id", "question", "answer", "error_message", "trace_uri"):
        setattr(message, field, clean_text(getattr(message, field)))
    for measurement in message.measurements:
        measurement.name = clean_text(measurement.name)
        measurement.unit = clean_text(measurement.unit)
        measurement.subjects = [clean_text(subject) for subject in measurement.subjects]
    for item in [*message.objects, *message.trajectories]:
        item.id = clean_text(item.id)
        item.label = clean_text(item.label)
    return message


def error_answer(
    request: Any, *, query_id: str, error_code: ErrorCode, error_message: str, elapsed_s: float, clock: Clock
) -> SpatialAnswer:
    """An answer to ``request`` (a srv/SpatialQuery request or goal) that reports ``error_code`` and why."""
    answer = Answer.failure(
        query_id, request.question, error_code, error_message, request.target_frame, elapsed_s
    )
    return answer_message(answer, clock)
