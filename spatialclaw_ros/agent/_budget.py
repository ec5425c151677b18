"""The limits of one query: its deadlines (``time.monotonic()`` seconds), its steps and its failures."""

from __future__ import annotations

import time

from spatialclaw_ros.agent._settings import AgentSettings
from spatialclaw_ros.agent._types import QueryRequest

#: The least time (s) a call is given, however little of the budget is left.
MIN_REMAINING_S = 0.1


class QueryBudget:
    """How much time, how many cells and how many failed replies one query may still spend.

    ``deadline`` ends the query. ``step_deadline`` ends the steps earlier by the final reserve, so that
    one answer-only call still fits (a ``code`` query has no such call and no reserve).
    """

    def __init__(self, request: QueryRequest, settings: AgentSettings) -> None:
        """Start the clock now; the budget is the request's ``timeout_s``, else the settings'."""
        self.started = time.monotonic()
        timeout_s = request.timeout_s if request.timeout_s > 0 else settings.timeout_s
        self.deadline = self.started + timeout_s
        reserve_s = min(settings.final_reserve_s, timeout_s / 4) if settings.final_answer else 0.0
        self.step_deadline = self.deadline - (0.0 if request.code else reserve_s)
        self.max_steps = settings.max_steps
        self.max_failures = settings.max_failures
        self.steps = 0
        self.failures = 0

    @property
    def timeout_s(self) -> float:
        """The whole time budget, seconds."""
        return self.deadline - self.started

    def elapsed_s(self) -> float:
        """Seconds since the query started."""
        return time.monotonic() - self.started

    def remaining_s(self, deadline: float) -> float:
        """Seconds left until ``deadline``, at least :data:`MIN_REMAINING_S`."""
        return max(MIN_REMAINING_S, deadline - time.monotonic())

    @property
    def steps_spent(self) -> bool:
        """True once the model ran ``max_steps`` cells."""
        return self.steps >= self.max_steps

    def step_time_spent(self) -> bool:
        """True once ``step_deadline`` has passed."""
        return time.monotonic() >= self.step_deadline

    def count_failure(self) -> bool:
        """Count one unusable reply or invalid answer; True when that spends the failure budget."""
        self.failures += 1
        return self.failures >= self.max_failures
