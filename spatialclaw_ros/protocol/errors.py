"""Why a query ended: one list of error codes, the same names and numbers as ``SpatialAnswer``'s constants."""

from __future__ import annotations

import enum


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
