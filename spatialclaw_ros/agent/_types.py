"""What goes into and comes out of the agent: request, outcome, progress, cancel token."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spatialclaw_ros.protocol.errors import ErrorCode


@dataclass(frozen=True)
class QueryRequest:
    """One question for the agent (the frames are already in the kernel's ``snapshot_dir``).

    Attributes:
        question: the question in natural language.
        answer_type: ``""`` (free), ``"text"``, ``"number"``, ``"choice"`` or ``"boolean"``.
        choices: the allowed answers when ``answer_type`` is ``"choice"``.
        target_frame: the frame the answer's poses are in, as the kernel's ``meta.target_frame``
            tells the model (the snapshot's world frame; the node transforms afterwards).
        code: non-empty: run this cell instead of asking the model (same validation, same trace).
        timeout_s: time budget of the whole query, seconds; 0: ``AgentSettings.timeout_s``.
        query_id: the query's id, also its trace directory's name; empty: one is made up.
    """

    question: str
    answer_type: str = ""
    choices: tuple[str, ...] = ()
    target_frame: str = ""
    code: str = ""
    timeout_s: float = 0.0
    query_id: str = ""


@dataclass(frozen=True)
class MeasurementResult:
    """A measurement of the answer: value in ``unit`` (SI), points N×3 metres in the world frame."""

    name: str
    type: str
    value: float
    unit: str
    stddev: float
    subjects: tuple[str, ...]
    points: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class ObjectResult:
    """An object of the answer: box centre (m), size (m), orientation quaternion (x, y, z, w), world frame."""

    id: str
    label: str
    center: np.ndarray
    size: np.ndarray
    orientation_xyzw: np.ndarray
    score: float


@dataclass(frozen=True)
class TrajectoryResult:
    """A trajectory of the answer: stamps (N,) seconds and positions N×3 metres, world frame."""

    id: str
    label: str
    stamps: np.ndarray
    positions: np.ndarray


@dataclass(frozen=True)
class QueryOutcome:
    """The result of one query, as plain Python/numpy (the node turns it into a ``SpatialAnswer``).

    ``error_code`` is one of :class:`ErrorCode`; when it is ``NONE`` the answer fields are valid.
    Geometry is in ``world_frame`` (the snapshot's world frame). ``source_stamps`` are the frames'
    stamps (seconds, oldest first). ``final_fallback`` is True when the answer came from the one
    answer-only call after the step or time budget ran out. ``tokens`` maps each role to
    ``(prompt_tokens, completion_tokens)``. ``last_shown_jpeg`` is the last image a cell passed to
    ``show()`` (as the model saw it), for the node's debug image.
    """

    query_id: str
    question: str
    answer: str
    error_code: str
    error_message: str
    measurements: tuple[MeasurementResult, ...]
    objects: tuple[ObjectResult, ...]
    trajectories: tuple[TrajectoryResult, ...]
    source_stamps: tuple[float, ...]
    world_frame: str
    steps: int
    elapsed_s: float
    trace_uri: str
    final_fallback: bool = False
    tokens: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    last_shown_jpeg: bytes | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """True when the answer fields are valid."""
        return self.error_code == ErrorCode.NONE


@dataclass(frozen=True)
class Progress:
    """One progress report (the action's feedback): stage, steps run, step budget, a line, seconds."""

    stage: str
    step: int
    max_steps: int
    summary: str
    elapsed_s: float


ProgressCallback = Callable[[Progress], None]


class CancelToken:
    """Thread-safe cancel flag; cancelling runs the subscribed callbacks once."""

    def __init__(self) -> None:
        """Start not cancelled."""
        self._lock = threading.Lock()
        self._cancelled = False
        self._callbacks: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancelled

    def cancel(self) -> None:
        """Cancel (idempotent); callable from any thread."""
        with self._lock:
            if self._cancelled:
                return
            self._cancelled = True
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` on cancel (at once if already cancelled); returns an unsubscribe function."""
        with self._lock:
            if not self._cancelled:
                self._callbacks.append(callback)
                return lambda: self._unsubscribe(callback)
        callback()
        return lambda: None

    def _unsubscribe(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)


def outcome_geometry(
    payload: Mapping[str, Any],
) -> tuple[tuple[MeasurementResult, ...], tuple[ObjectResult, ...], tuple[TrajectoryResult, ...]]:
    """The typed geometry of a validated answer payload."""
    measurements = tuple(
        MeasurementResult(
            name=item["name"],
            type=item["type"],
            value=float(item["value"]),
            unit=item["unit"],
            stddev=math.nan if item["stddev"] is None else float(item["stddev"]),
            subjects=tuple(item["subjects"]),
            points=np.asarray(item["points"], dtype=np.float64).reshape(-1, 3),
        )
        for item in payload["measurements"]
    )
    objects = tuple(
        ObjectResult(
            id=item["id"],
            label=item["label"],
            center=np.asarray(item["center"], dtype=np.float64),
            size=np.asarray(item["size"], dtype=np.float64),
            orientation_xyzw=np.asarray(item["orientation_xyzw"], dtype=np.float64),
            score=float(item["score"]),
        )
        for item in payload["objects"]
    )
    trajectories = tuple(
        TrajectoryResult(
            id=item["id"],
            label=item["label"],
            stamps=np.asarray(item["stamps"], dtype=np.float64),
            positions=np.asarray(item["positions"], dtype=np.float64).reshape(-1, 3),
        )
        for item in payload["trajectories"]
    )
    return measurements, objects, trajectories
