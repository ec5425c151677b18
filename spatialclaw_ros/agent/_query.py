"""One query while it runs: its request and settings, trace, conversation, budget, accounting and findings.

Every part of the loop reads and writes the query through this object; it holds state, not policy
(the transitions are in ``_machine``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from spatialclaw_ros.agent._accounting import StageClock, TokenCounts
from spatialclaw_ros.agent._budget import QueryBudget
from spatialclaw_ros.agent._conversation import Conversation, Turn
from spatialclaw_ros.agent._settings import AgentSettings, LLMSettings
from spatialclaw_ros.agent._trace import Trace
from spatialclaw_ros.agent._types import Progress, ProgressCallback, QueryRequest
from spatialclaw_ros.runtime.answer import validate_payload

LOG = logging.getLogger("spatialclaw_ros.agent")


class Query:
    """The state of one query on the agent's event loop.

    Findings filled in as the query runs: ``source_stamps`` (s, oldest first) and ``world_frame`` from
    the snapshot, ``first_request_s`` (s after the start), ``perception_unavailable`` when a cell met
    an unavailable perception backend, ``last_shown_jpeg`` (the last ``show()`` image the model saw).
    """

    def __init__(
        self,
        request: QueryRequest,
        settings: AgentSettings,
        llm: LLMSettings,
        progress: ProgressCallback | None,
    ) -> None:
        """Open the trace and start the budget's clock."""
        self.request = request
        self.settings = settings
        self.llm = llm
        self.trace = Trace(settings.trace_dir, request.query_id, settings.trace_max_mb)
        self.budget = QueryBudget(request, settings)
        self.stages = StageClock(self.trace)
        self.tokens = TokenCounts()
        self.conversation = Conversation()
        self.source_stamps: tuple[float, ...] = ()
        self.world_frame = ""
        self.first_request_s: float | None = None
        self.perception_unavailable = False
        self.last_shown_jpeg: bytes | None = None
        self._progress_callback = progress

    def progress(self, stage: str, summary: str) -> None:
        """Report ``stage`` with a one-line ``summary`` (a failing callback is logged, never raised)."""
        if self._progress_callback is None:
            return
        update = Progress(stage, self.budget.steps, self.budget.max_steps, summary, self.budget.elapsed_s())
        try:
            self._progress_callback(update)
        except Exception:
            LOG.exception("the progress callback failed")

    def add_turn(self, turn: Turn) -> None:
        """Append ``turn`` to the conversation and record it (its images stored as files)."""
        self.conversation.add(turn)
        stored = [{"path": self.trace.image(image), "label": image.label} for image in turn.images]
        self.trace.event("message", role=turn.role, turn=turn.kind, text=turn.text, images=stored)

    def validate_answer(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The normal form of an answer payload, recorded. Raises ``AnswerError`` when it is invalid."""
        checked = validate_payload(payload, self.request.answer_type, self.request.choices)
        self.trace.event("answer", payload=checked)
        return checked
