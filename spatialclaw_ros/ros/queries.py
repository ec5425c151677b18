"""The node's queries on the engine: SpatialQuery requests in, SpatialAnswer messages out.

The engine (:mod:`spatialclaw_ros.engine`) does the work, ROS-free; this module only translates the
messages, stamps answers with the node's clock, and describes silent camera topics for NO_DATA.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rclpy.clock import Clock

from spatialclaw_ros.agent import CancelToken, ProgressCallback, QueryOutcome
from spatialclaw_ros.engine import QueryEngine, Request
from spatialclaw_ros.msg import SpatialAnswer
from spatialclaw_ros.ros.answers import answer_message
from spatialclaw_ros.ros.diagnostics import topic_silence


@dataclass(frozen=True)
class QueryResult:
    """The answer message, the agent's outcome behind it when the agent ran, and the point cloud.

    ``points``: ``(N×3 float32 metres, N×3 uint8 RGB)`` in the answer's frame (``engine.snapshot_points``).
    """

    answer: SpatialAnswer
    outcome: QueryOutcome | None
    points: tuple[np.ndarray, np.ndarray] | None = None


def silence_of(
    topic_ages: Callable[[Sequence[str]], Sequence[tuple[str, float | None]]],
) -> Callable[[Sequence[str]], str]:
    """For NO_DATA answers: each of the cameras' topics and how long since its last message (or never)."""

    def silence(cameras: Sequence[str]) -> str:
        ages = topic_ages(cameras)
        if not ages:
            return "not subscribed to their topics (the node is not active)"
        return f"topics: {topic_silence(ages)}"

    return silence


class QueryRunner:
    """Runs SpatialQuery requests (service requests or action goals) on the node's engine."""

    def __init__(self, engine: QueryEngine, clock: Clock) -> None:
        """Answer through ``engine``; stamp answers with ``clock``."""
        self.engine = engine
        self._clock = clock

    def run(
        self,
        request: Any,
        *,
        query_id: str,
        started: float,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> QueryResult:
        """Answer ``request`` (fields as in srv/SpatialQuery.srv); never raises (see ``QueryEngine.run``)."""
        result = self.engine.run(
            Request.of(request), query_id=query_id, started=started, progress=progress, cancel=cancel
        )
        return QueryResult(answer_message(result.answer, self._clock), result.outcome, result.points)
