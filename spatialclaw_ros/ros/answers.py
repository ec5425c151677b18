"""SpatialAnswer messages: request checks and answers that carry an error code.

Convention:
    ``elapsed`` is wall time from receiving the request; ``header.stamp`` is the node's clock when the
    answer was made; ``header.frame_id`` is the frame every pose of the answer is expressed in.
"""

from __future__ import annotations

import math
import uuid

from builtin_interfaces.msg import Duration
from rclpy.clock import Clock

from spatialclaw_ros.msg import SpatialAnswer

ANSWER_TYPES = ("", "text", "number", "choice", "boolean")
MAX_TIMEOUT_S = 3600.0
MAX_FRAMES = 256


def new_query_id() -> str:
    """A unique, file-name-safe id for one query (also its trace directory name)."""
    return uuid.uuid4().hex[:16]


def request_problem(request) -> str | None:
    """Why a SpatialQuery request/goal is malformed, or None when it is acceptable.

    Checks only the request itself; whether the frames it asks for exist is the buffer's business.
    """
    if not request.question.strip() and not request.code.strip():
        return "question is empty (and no code was given)"
    if request.answer_type not in ANSWER_TYPES:
        return f"answer_type must be one of {list(ANSWER_TYPES)}, not {request.answer_type!r}"
    if request.answer_type == "choice" and not request.choices:
        return 'answer_type "choice" needs a non-empty choices list'
    if request.answer_type != "choice" and request.choices:
        return f'choices are only allowed with answer_type "choice", not {request.answer_type!r}'
    if not math.isfinite(request.window_s) or request.window_s < 0.0:
        return f"window_s must be a finite number >= 0, not {request.window_s}"
    if not math.isfinite(request.timeout_s) or not 0.0 <= request.timeout_s <= MAX_TIMEOUT_S:
        return f"timeout_s must be a number of seconds in [0, {MAX_TIMEOUT_S:g}], not {request.timeout_s}"
    if request.max_frames > MAX_FRAMES:
        return f"max_frames must be at most {MAX_FRAMES}, not {request.max_frames}"
    if len(set(request.cameras)) != len(request.cameras):
        return f"cameras must be unique: {list(request.cameras)}"
    return None


def seconds_to_duration(seconds: float) -> Duration:
    """A non-negative ``builtin_interfaces/Duration`` from seconds."""
    nanoseconds = max(0, round(seconds * 1e9))
    return Duration(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def error_answer(
    request,
    *,
    query_id: str,
    error_code: int,
    error_message: str,
    frame_id: str,
    elapsed_s: float,
    clock: Clock,
) -> SpatialAnswer:
    """An answer that reports ``error_code`` (a SpatialAnswer constant) and why."""
    answer = SpatialAnswer()
    answer.header.stamp = clock.now().to_msg()
    answer.header.frame_id = frame_id
    answer.query_id = query_id
    answer.question = request.question
    answer.error_code = error_code
    answer.error_message = error_message
    answer.elapsed = seconds_to_duration(elapsed_s)
    return answer
