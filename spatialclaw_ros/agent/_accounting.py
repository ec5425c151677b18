"""What one query spent: wall time per stage (s) and tokens per VLM role, for its trace and outcome."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from spatialclaw_ros.agent._chat_model import ChatResult
from spatialclaw_ros.agent._trace import Trace


class StageClock:
    """Seconds per stage (``snapshot``, ``request``, ``llm_step``, ``cell``, …), trace writes apart."""

    def __init__(self, trace: Trace) -> None:
        """Time the stages of the query that ``trace`` records (its writes are the stage ``trace``)."""
        self._trace = trace
        self._seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def measure(self, stage: str) -> Iterator[None]:
        """Add the block's wall time (s) to ``stage``, less the trace writes inside it."""
        started, written_s = time.monotonic(), self._trace.write_s
        try:
            yield
        finally:
            seconds = time.monotonic() - started - (self._trace.write_s - written_s)
            self._seconds[stage] = self._seconds.get(stage, 0.0) + seconds

    def totals(self) -> dict[str, float]:
        """Seconds spent so far per stage, trace writes included as ``trace``."""
        totals = {**self._seconds, "trace": self._trace.write_s}
        return {stage: round(seconds, 5) for stage, seconds in totals.items()}


class TokenCounts:
    """Prompt and completion tokens and calls per role, in the order the roles first answered."""

    def __init__(self) -> None:
        """Start with no role."""
        self._counts: dict[str, list[int]] = {}

    def add(self, role: str, result: ChatResult) -> None:
        """Count one answered call of ``role``."""
        counts = self._counts.setdefault(role, [0, 0, 0])
        counts[0] += result.prompt_tokens
        counts[1] += result.completion_tokens
        counts[2] += 1

    def per_role(self) -> dict[str, tuple[int, int]]:
        """``role -> (prompt_tokens, completion_tokens)``."""
        return {role: (counts[0], counts[1]) for role, counts in self._counts.items()}

    def report(self) -> dict[str, dict[str, int]]:
        """``role -> {"prompt", "completion", "calls"}``, as the trace's outcome event holds them."""
        return {
            role: {"prompt": counts[0], "completion": counts[1], "calls": counts[2]}
            for role, counts in self._counts.items()
        }
