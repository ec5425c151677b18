"""What the sandboxed kernel imports: frames view, tool proxies, ``show``, ``vlm``, ``ReturnAnswer``.

Runs inside the kernel with only numpy, the standard library and ``spatialclaw_ros.geometry``; it
imports nothing from ``ros``, ``agent`` or ``sandbox``. The host imports :mod:`.answer` (to validate
what a kernel reports) and :mod:`.namespace` (the bootstrap cell and the report's mime types).
``show`` lives in :mod:`.show` (the kernel namespace holds the function as ``show``).
"""

from spatialclaw_ros.runtime.answer import (
    AnswerError,
    Measurement,
    Object3D,
    ReturnAnswer,
    Trajectory,
    validate_payload,
)
from spatialclaw_ros.runtime.namespace import READY_MIME, STEP_MIME, Meta, bootstrap_code
from spatialclaw_ros.runtime.vlm import VLM, VLMError

__all__ = [
    "READY_MIME",
    "STEP_MIME",
    "VLM",
    "AnswerError",
    "Measurement",
    "Meta",
    "Object3D",
    "ReturnAnswer",
    "Trajectory",
    "VLMError",
    "bootstrap_code",
    "validate_payload",
]
