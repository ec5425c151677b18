"""Why a query ended: one list of error codes, the same names and numbers as ``SpatialAnswer``'s constants."""

from __future__ import annotations

import enum
import traceback


class ErrorCode(str, enum.Enum):
    """An answer's error code; its value is its name, :attr:`number` its ``SpatialAnswer`` constant.

    A ``str``: it compares equal to its name, and JSON, logs and f-strings show the name.
    msg/SpatialAnswer.msg documents each code; a test checks that both lists agree.
    """

    NONE = "NONE"
    NO_DATA = "NO_DATA"
    INVALID_QUERY = "INVALID_QUERY"
    MODEL_UNAVAILABLE = "MODEL_UNAVAILABLE"
    PERCEPTION_UNAVAILABLE = "PERCEPTION_UNAVAILABLE"
    TIMEOUT = "TIMEOUT"
    CANCELED = "CANCELED"
    AGENT_FAILED = "AGENT_FAILED"
    SANDBOX_ERROR = "SANDBOX_ERROR"
    TF_ERROR = "TF_ERROR"
    NOT_READY = "NOT_READY"

    __str__ = str.__str__
    __format__ = str.__format__

    @property
    def number(self) -> int:
        """The ``int16`` constant of ``SpatialAnswer`` (0 for ``NONE``, in declaration order)."""
        return list(ErrorCode).index(self)


def release_frames(error: BaseException) -> None:
    """Let go of the frames ``error`` and its causes passed through: their locals, then the tracebacks.

    An exception raised while a request is served keeps the request's frames, and so its buffers, alive
    through its traceback; stored by a task or re-raised ``from`` another, it closes a reference cycle
    that only the garbage collector breaks, many requests later (a 90 MiB request then stayed in the
    perception service at every call). Call this once the error has been turned into a reply.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        traceback.clear_frames(current.__traceback__)
        current.__traceback__ = None
        current = current.__cause__ or current.__context__
