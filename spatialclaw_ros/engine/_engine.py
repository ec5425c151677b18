"""One query from request to answer, without ROS: checks, budget, snapshot, sandboxed kernel, agent.

The live node, recorded bags, image and video files and benchmark evaluation all ask through
:class:`QueryEngine`. It runs in the caller's thread and blocks; several queries may run at once from
different threads. Every failure becomes an :class:`Answer` with an error code, never an exception.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from spatialclaw_ros.agent import Agent, CancelToken, Progress, ProgressCallback, QueryOutcome, QueryRequest
from spatialclaw_ros.engine._answer import Answer, SourceFrame
from spatialclaw_ros.engine._points import snapshot_points
from spatialclaw_ros.engine._request import Request
from spatialclaw_ros.frames import FrameDecodeError, FrameSource, NoFramesError, SnapshotIndex
from spatialclaw_ros.protocol import ErrorCode
from spatialclaw_ros.sandbox import KernelPool, SandboxError

LOG = logging.getLogger("spatialclaw_ros.engine")


@dataclass(frozen=True)
class QueryDefaults:
    """What a request's zero or empty fields stand for, and what the engine checks and adds.

    Attributes:
        cameras: every camera (a request naming others is INVALID_QUERY).
        target_frame: the frame answers are expressed in ("" for the snapshot's world frame).
        max_frames: most frames in a snapshot.
        timeout_s: a query's time budget (s).
        max_steps: the agent's step budget (reported in progress).
        sandbox_off: the kernels run unconfined (each query logs a warning).
        points_stride: back-project every Nth pixel of the frames into :attr:`QueryResult.points`
            (None: no point cloud).
        depth_required: cameras whose frames must have depth (an answer says which lack it).
    """

    cameras: tuple[str, ...]
    target_frame: str
    max_frames: int
    timeout_s: float
    max_steps: int
    sandbox_off: bool
    points_stride: int | None
    depth_required: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueryResult:
    """The answer, the agent's outcome behind it when the agent ran, and the frames' point cloud.

    ``points``: ``(N×3 float32 metres, N×3 uint8 RGB)`` in the answer's frame, when asked for.
    """

    answer: Answer
    outcome: QueryOutcome | None
    points: tuple[np.ndarray, np.ndarray] | None = None


def no_silence(cameras: Sequence[str]) -> str:
    """A frame source with nothing to say about its cameras' streams."""
    return ""


class QueryEngine:
    """Answers requests from a frame source through a kernel of the pool and the agent."""

    def __init__(
        self,
        *,
        frames: FrameSource,
        pool: KernelPool | None,
        pool_error: str,
        agent: Agent,
        defaults: QueryDefaults,
        silence: Callable[[Sequence[str]], str] = no_silence,
        log: logging.Logger | logging.LoggerAdapter = LOG,
    ) -> None:
        """Answer from ``frames``; ``pool`` None means the sandbox is unavailable (``pool_error`` says why).

        ``silence(cameras)`` describes why cameras have no frames (e.g. each topic's last message), for
        NO_DATA answers; ``log`` takes the engine's warnings and errors (any object with ``warning``
        and ``error`` methods taking one string, such as a ROS node's logger).
        """
        self.frames = frames
        self._pool = pool
        self._pool_error = pool_error
        self._agent = agent
        self._defaults = defaults
        self._silence = silence
        self._log = log

    def run(
        self,
        request: Request,
        *,
        query_id: str,
        started: float,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> QueryResult:
        """Answer ``request``; never raises.

        ``started`` is the ``time.monotonic()`` of the request's arrival: ``elapsed_s`` and the time
        budget both count from it, so time spent waiting for a query slot is part of the budget.
        """
        try:
            return self._run(request, query_id, started, progress, cancel or CancelToken())
        except Exception as error:  # the caller must survive anything; the trace and log keep the details
            self._log.error(f"query {query_id} failed: {type(error).__name__}: {error}")
            return self._failed(
                request, query_id, started, ErrorCode.AGENT_FAILED, f"internal error: {error}"
            )

    def _failed(
        self, request: Request, query_id: str, started: float, code: ErrorCode, message: str
    ) -> QueryResult:
        frame_id = request.target_frame or self._defaults.target_frame
        answer = Answer.failure(
            query_id, request.question, code, message, frame_id, time.monotonic() - started
        )
        return QueryResult(answer, None)

    def _run(
        self,
        request: Request,
        query_id: str,
        started: float,
        progress: ProgressCallback | None,
        cancel: CancelToken,
    ) -> QueryResult:
        timeout_s = request.timeout_s or self._defaults.timeout_s
        target_frame = request.target_frame or self._defaults.target_frame

        def failed(code: ErrorCode, message: str) -> QueryResult:
            return self._failed(request, query_id, started, code, message)

        def remaining_s() -> float:
            return timeout_s - (time.monotonic() - started)

        problem = request.problem()
        if problem is not None:
            return failed(ErrorCode.INVALID_QUERY, problem)
        unknown = [name for name in request.cameras if name not in self._defaults.cameras]
        if unknown:
            return failed(
                ErrorCode.INVALID_QUERY,
                f"unknown cameras {unknown}; this node has {list(self._defaults.cameras)}",
            )
        cameras = request.cameras or self._defaults.cameras
        if not self.frames.cameras_with_frames() & set(cameras):
            return failed(
                ErrorCode.NO_DATA, f"no frames yet from cameras {list(cameras)}; {self._silence(cameras)}"
            )
        if self._pool is None:
            return failed(ErrorCode.SANDBOX_ERROR, f"the sandbox is unavailable: {self._pool_error}")
        if self._defaults.sandbox_off:
            self._log.warning(
                f"query {query_id}: kernel.sandbox is OFF: model-written code runs unconfined on this machine"
            )
        if remaining_s() <= 0.0:
            return failed(ErrorCode.TIMEOUT, f"the {timeout_s:g} s budget ran out waiting for a query slot")
        if cancel.cancelled:
            return failed(ErrorCode.CANCELED, "the query was canceled")
        self._report(progress, "kernel", "acquiring a kernel", started)
        try:
            kernel = self._pool.acquire(timeout_s=remaining_s())
        except SandboxError as error:
            if remaining_s() <= 0.0:
                return failed(ErrorCode.TIMEOUT, f"the {timeout_s:g} s budget ran out waiting for a kernel")
            return failed(ErrorCode.SANDBOX_ERROR, f"no sandboxed kernel: {error}")
        try:
            self._report(progress, "snapshot", "writing the frames", started)
            try:
                index = self.frames.write_snapshot(
                    kernel.snapshot_dir,
                    cameras=cameras,
                    window_s=request.window_s,
                    max_frames=request.max_frames or self._defaults.max_frames,
                    target_frame=target_frame,
                )
            except (NoFramesError, FrameDecodeError) as error:
                return failed(ErrorCode.NO_DATA, f"{error}; {self._silence(cameras)}")
            if target_frame and index.world_frame != target_frame:
                reasons = "; ".join(index.errors) or "no camera pose in that frame"
                return failed(ErrorCode.TF_ERROR, f"cannot express the frames in {target_frame!r}: {reasons}")
            for snapshot_problem in index.errors:
                self._log.warning(f"query {query_id}: snapshot: {snapshot_problem}")
            if cancel.cancelled:
                return failed(ErrorCode.CANCELED, "the query was canceled")
            if remaining_s() <= 0.0:
                return failed(ErrorCode.TIMEOUT, f"the {timeout_s:g} s budget ran out writing the snapshot")
            outcome = self._agent.run(
                QueryRequest(
                    question=request.question,
                    answer_type=request.answer_type,
                    choices=request.choices,
                    target_frame=index.world_frame,
                    code=request.code,
                    timeout_s=remaining_s(),
                    query_id=query_id,
                ),
                kernel,
                progress=progress,
                cancel=cancel,
            )
            stride = self._defaults.points_stride
            points = snapshot_points(kernel.snapshot_dir, stride) if stride and outcome.ok else None
        finally:
            kernel.close()
        return QueryResult(self._answer(request, outcome, index, started), outcome, points)

    def _depth_warning(self, index: SnapshotIndex) -> str:
        """Why the frames of cameras whose depth is required lack it; empty when none does."""
        required = [frame for frame in index.frames if frame.camera in self._defaults.depth_required]
        lacking = [frame for frame in required if frame.depth is None]
        if not lacking:
            return ""
        cameras = sorted({frame.camera for frame in lacking})
        return (
            f"{len(lacking)} of {len(required)} frames of cameras {cameras} have no depth, although their "
            f"depth is required (NAME.depth: true)"
        )

    def _answer(
        self, request: Request, outcome: QueryOutcome, index: SnapshotIndex, started: float
    ) -> Answer:
        return Answer(
            query_id=outcome.query_id,
            question=request.question,
            error_code=ErrorCode(outcome.error_code),
            error_message="; ".join(
                part for part in (outcome.error_message, self._depth_warning(index)) if part
            ),
            answer=outcome.answer,
            frame_id=index.world_frame,
            measurements=outcome.measurements,
            objects=outcome.objects,
            trajectories=outcome.trajectories,
            source_stamps=outcome.source_stamps,
            source_frames=tuple(SourceFrame.of(frame) for frame in index.frames),
            steps=outcome.steps,
            elapsed_s=time.monotonic() - started,
            trace_uri=outcome.trace_uri,
        )

    def _report(self, progress: ProgressCallback | None, stage: str, summary: str, started: float) -> None:
        if progress is not None:
            progress(Progress(stage, 0, self._defaults.max_steps, summary, time.monotonic() - started))
