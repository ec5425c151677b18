"""How a query fails from deep inside a state: :class:`QueryError`, and the error code of any exception."""

from __future__ import annotations

import logging

from spatialclaw_ros.agent._chat_model import DeadlineError, ModelUnavailableError, RequestRejectedError
from spatialclaw_ros.agent._types import ErrorCode
from spatialclaw_ros.sandbox import SandboxError

LOG = logging.getLogger("spatialclaw_ros.agent")


class QueryError(Exception):
    """Ends the query with ``code``: raised where a helper, not a state, finds that it cannot go on."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        """Keep the error code and the message the outcome carries."""
        super().__init__(message)
        self.code = code
        self.message = message


def failure_of(error: Exception, timeout_s: float, query_id: str) -> tuple[ErrorCode, str]:
    """The error code and message of a query that ``error`` ended; ``timeout_s`` is its whole budget."""
    if isinstance(error, QueryError):
        return error.code, error.message
    if isinstance(error, ModelUnavailableError):
        return ErrorCode.MODEL_UNAVAILABLE, str(error)
    if isinstance(error, RequestRejectedError):
        return ErrorCode.AGENT_FAILED, str(error)
    if isinstance(error, DeadlineError):
        return ErrorCode.TIMEOUT, f"the query ran past its {timeout_s:.1f} s budget"
    if isinstance(error, SandboxError):
        return ErrorCode.SANDBOX_ERROR, f"the kernel failed: {error}"
    LOG.error("query %s failed", query_id, exc_info=error)
    return ErrorCode.AGENT_FAILED, f"internal error: {type(error).__name__}: {error}"
