"""A question for the engine: the fields of SpatialQuery's request and goal, and the one check of them."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, fields
from typing import Any

from spatialclaw_ros.runtime.answer import ANSWER_TYPES

MAX_TIMEOUT_S = 3600.0
MAX_FRAMES = 256


def new_query_id() -> str:
    """A unique, file-name-safe id for one query (also its trace directory name)."""
    return uuid.uuid4().hex[:16]


@dataclass(frozen=True)
class Request:
    """What a planner asks (srv/SpatialQuery.srv's request; zero and empty fields take the defaults).

    Attributes:
        question: the question in natural language.
        cameras: camera names; empty: every camera.
        window_s: seconds back from the newest frame; 0: the latest frame of each camera.
        max_frames: most frames in the snapshot; 0: the default.
        target_frame: frame to express the answer in; "": the default (else the snapshot's world frame).
        answer_type: "", "text", "number", "choice" or "boolean".
        choices: the allowed answers of a "choice" question.
        code: a cell to run instead of asking the model (deterministic programs).
        timeout_s: the query's time budget (s, from its arrival); 0: the default.
    """

    question: str = ""
    cameras: tuple[str, ...] = ()
    window_s: float = 0.0
    max_frames: int = 0
    target_frame: str = ""
    answer_type: str = ""
    choices: tuple[str, ...] = ()
    code: str = ""
    timeout_s: float = 0.0

    @classmethod
    def of(cls, message: Any) -> Request:
        """The request that a message with the same fields carries (a service request, an action goal)."""
        values = {field.name: getattr(message, field.name) for field in fields(cls)}
        values["cameras"] = tuple(values["cameras"])
        values["choices"] = tuple(values["choices"])
        return cls(**values)

    def problem(self) -> str | None:
        """Why the request is malformed (INVALID_QUERY), or None when it is acceptable.

        Checks the request alone; whether its cameras exist or have frames is the engine's business.
        """
        if not self.question.strip() and not self.code.strip():
            return "question is empty (and no code was given)"
        if self.answer_type not in ANSWER_TYPES:
            return f"answer_type must be one of {list(ANSWER_TYPES)}, not {self.answer_type!r}"
        if self.answer_type == "choice":
            if not self.choices or any(not choice.strip() for choice in self.choices):
                return 'answer_type "choice" needs a list of non-empty choices'
            if len(set(self.choices)) != len(self.choices):
                return f"choices must be unique: {list(self.choices)}"
        elif self.choices:
            return f'choices are only allowed with answer_type "choice", not {self.answer_type!r}'
        if not math.isfinite(self.window_s) or self.window_s < 0.0:
            return f"window_s must be a finite number >= 0, not {self.window_s}"
        if not math.isfinite(self.timeout_s) or not 0.0 <= self.timeout_s <= MAX_TIMEOUT_S:
            return f"timeout_s must be a number of seconds in [0, {MAX_TIMEOUT_S:g}], not {self.timeout_s}"
        if not 0 <= self.max_frames <= MAX_FRAMES:
            return f"max_frames must be in [0, {MAX_FRAMES}], not {self.max_frames}"
        if len(set(self.cameras)) != len(self.cameras):
            return f"cameras must be unique: {list(self.cameras)}"
        return None
