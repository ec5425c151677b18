"""The states of one query (``_machine`` has the transitions); each carries what its handler needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spatialclaw_ros.agent._cells import RanCell
from spatialclaw_ros.agent._types import ErrorCode


@dataclass(frozen=True)
class Prepare:
    """Read the snapshot, open the ``vlm.ask`` socket, start loading the namespace, write the task."""


@dataclass(frozen=True)
class RunCode:
    """Run the request's own cell (a ``code`` query): no model call at all."""


@dataclass(frozen=True)
class Plan:
    """One text-only call for a plan, before the first cell."""


@dataclass(frozen=True)
class Step:
    """Ask the model for its next cell and run it."""


@dataclass(frozen=True)
class Observe:
    """Judge the cell the model just ran: an answer ends the query, anything else is shown to the model."""

    cell: RanCell


@dataclass(frozen=True)
class Final:
    """A budget ran out (``why``: ``AGENT_FAILED`` for steps, ``TIMEOUT`` for time): one answer-only call."""

    why: ErrorCode


@dataclass(frozen=True)
class Answered:
    """Terminal: a valid answer (``payload`` in normal form); ``final`` when it came from :class:`Final`."""

    payload: dict[str, Any]
    final: bool


@dataclass(frozen=True)
class Failed:
    """Terminal: the query ends with ``code`` and ``message``."""

    code: ErrorCode
    message: str


#: The two states that end a query.
Ended = Answered | Failed
State = Prepare | RunCode | Plan | Step | Observe | Final | Answered | Failed
