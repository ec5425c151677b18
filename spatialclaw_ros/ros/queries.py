"""One query from request to SpatialAnswer: checks, snapshot, sandboxed kernel, agent, conversion.

Runs in a worker thread (never in an executor callback of ingest); blocking; thread-safe. Every failure
becomes an answer with an error code, never an exception out of :meth:`QueryRunner.run`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rclpy.clock import Clock
from rclpy.impl.rcutils_logger import RcutilsLogger

from spatialclaw_ros.agent import Agent, CancelToken, Progress, ProgressCallback, QueryOutcome, QueryRequest
from spatialclaw_ros.frames import FrameBuffer, FrameDecodeError, NoFramesError, SnapshotIndex, write_snapshot
from spatialclaw_ros.msg import SpatialAnswer
from spatialclaw_ros.ros.answers import error_answer, request_problem, seconds_to_duration
from spatialclaw_ros.ros.conversions import fill_answer, source_frame
from spatialclaw_ros.ros.diagnostics import topic_silence
from spatialclaw_ros.ros.pointcloud import snapshot_points
from spatialclaw_ros.sandbox import KernelPool, SandboxError


class QuerySlots:
    """At most ``limit`` queries at once. Waits end early when the node closes; thread-safe."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._in_use = 0
        self._closed = False
        self._condition = threading.Condition()

    @property
    def in_use(self) -> int:
        """Slots held now."""
        with self._condition:
            return self._in_use

    def try_acquire(self) -> bool:
        """Take a slot if one is free now."""
        with self._condition:
            if self._closed or self._in_use >= self.limit:
                return False
            self._in_use += 1
            return True

    def acquire(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` seconds for a slot; False on timeout or when closed."""
        deadline = time.monotonic() + timeout_s
        with self._condition:
            while not self._closed and self._in_use >= self.limit:
                remaining = deadline - time.monotonic()
                if remaining <= 0.0:
                    return False
                self._condition.wait(remaining)
            if self._closed:
                return False
            self._in_use += 1
            return True

    def release(self) -> None:
        """Give a slot back."""
        with self._condition:
            if self._in_use <= 0:
                raise RuntimeError("released a query slot that was not held")
            self._in_use -= 1
            self._condition.notify()

    def close(self) -> None:
        """Refuse new slots and wake every waiter."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()


@dataclass(frozen=True)
class QueryDefaults:
    """What a request's zero/empty fields stand for."""

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
    """The answer, the outcome behind it when the agent ran, and the frames' point cloud when asked for.

    ``points``: ``(N×3 float32 metres, N×3 uint8 RGB)`` in the answer's frame (see ``ros.pointcloud``).
    """

    answer: SpatialAnswer
    outcome: QueryOutcome | None
    points: tuple[np.ndarray, np.ndarray] | None = None


class QueryRunner:
    """Answers requests from the frame buffer through a kernel of the pool and the agent."""

    def __init__(
        self,
        *,
        buffer: FrameBuffer,
        pool: KernelPool | None,
        pool_error: str,
        agent: Agent,
        defaults: QueryDefaults,
        topic_ages: Callable[[Sequence[str]], Sequence[tuple[str, float | None]]],
        clock: Clock,
        logger: RcutilsLogger,
    ) -> None:
        self._buffer = buffer
        self._pool = pool
        self._pool_error = pool_error
        self._agent = agent
        self._defaults = defaults
        self._topic_ages = topic_ages
        self._clock = clock
        self._logger = logger

    def run(
        self,
        request,
        *,
        query_id: str,
        started: float,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> QueryResult:
        """Answer ``request`` (a SpatialQuery service request or action goal); never raises.

        ``started`` is the ``time.monotonic()`` of the request's arrival: ``elapsed`` and the time budget
        both count from it, so time spent waiting for a query slot is part of the budget.
        """
        try:
            return self._run(request, query_id, started, progress, cancel or CancelToken())
        except Exception as error:  # the node must survive anything; the trace and log keep the details
            self._logger.error(f"query {query_id} failed: {type(error).__name__}: {error}")
            return self._failed(
                request, query_id, started, SpatialAnswer.AGENT_FAILED, f"internal error: {error}"
            )

    def _failed(self, request, query_id: str, started: float, code: int, message: str) -> QueryResult:
        answer = error_answer(
            request,
            query_id=query_id,
            error_code=code,
            error_message=message,
            frame_id=request.target_frame or self._defaults.target_frame,
            elapsed_s=time.monotonic() - started,
            clock=self._clock,
        )
        return QueryResult(answer, None)

    def _run(self, request, query_id: str, started: float, progress, cancel: CancelToken) -> QueryResult:
        timeout_s = request.timeout_s or self._defaults.timeout_s
        target_frame = request.target_frame or self._defaults.target_frame

        def failed(code: int, message: str) -> QueryResult:
            return self._failed(request, query_id, started, code, message)

        def remaining_s() -> float:
            return timeout_s - (time.monotonic() - started)

        problem = request_problem(request)
        if problem is not None:
            return failed(SpatialAnswer.INVALID_QUERY, problem)
        unknown = [name for name in request.cameras if name not in self._defaults.cameras]
        if unknown:
            return failed(
                SpatialAnswer.INVALID_QUERY,
                f"unknown cameras {unknown}; this node has {list(self._defaults.cameras)}",
            )
        cameras = tuple(request.cameras) or self._defaults.cameras
        if not self._buffer.cameras_with_frames() & set(cameras):
            return failed(
                SpatialAnswer.NO_DATA, f"no frames yet from cameras {list(cameras)}; {self._silence(cameras)}"
            )
        if self._pool is None:
            return failed(SpatialAnswer.SANDBOX_ERROR, f"the sandbox is unavailable: {self._pool_error}")
        if self._defaults.sandbox_off:
            self._logger.warning(
                f"query {query_id}: kernel.sandbox is OFF: model-written code runs unconfined on this machine"
            )
        if remaining_s() <= 0.0:
            return failed(
                SpatialAnswer.TIMEOUT, f"the {timeout_s:g} s budget ran out waiting for a query slot"
            )
        if cancel.cancelled:
            return failed(SpatialAnswer.CANCELED, "the query was canceled")
        _report(progress, "kernel", "acquiring a kernel", self._defaults.max_steps, started)
        try:
            kernel = self._pool.acquire(timeout_s=remaining_s())
        except SandboxError as error:
            if remaining_s() <= 0.0:
                return failed(
                    SpatialAnswer.TIMEOUT, f"the {timeout_s:g} s budget ran out waiting for a kernel"
                )
            return failed(SpatialAnswer.SANDBOX_ERROR, f"no sandboxed kernel: {error}")
        try:
            _report(progress, "snapshot", "writing the frames", self._defaults.max_steps, started)
            try:
                index = write_snapshot(
                    self._buffer,
                    kernel.snapshot_dir,
                    cameras=cameras,
                    window_s=request.window_s,
                    max_frames=request.max_frames or self._defaults.max_frames,
                    target_frame=target_frame,
                )
            except (NoFramesError, FrameDecodeError) as error:
                return failed(SpatialAnswer.NO_DATA, f"{error}; {self._silence(cameras)}")
            if target_frame and index.world_frame != target_frame:
                reasons = "; ".join(index.errors) or "no camera pose in that frame"
                return failed(
                    SpatialAnswer.TF_ERROR, f"cannot express the frames in {target_frame!r}: {reasons}"
                )
            for problem in index.errors:
                self._logger.warning(f"query {query_id}: snapshot: {problem}")
            if cancel.cancelled:
                return failed(SpatialAnswer.CANCELED, "the query was canceled")
            if remaining_s() <= 0.0:
                return failed(
                    SpatialAnswer.TIMEOUT, f"the {timeout_s:g} s budget ran out writing the snapshot"
                )
            outcome = self._agent.run(
                QueryRequest(
                    question=request.question,
                    answer_type=request.answer_type,
                    choices=tuple(request.choices),
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
        answer = self._answer(request, outcome, index, started)
        return QueryResult(answer, outcome, points)

    def _silence(self, cameras: Sequence[str]) -> str:
        """Each of the cameras' topics and how long since its last message (or never)."""
        ages = self._topic_ages(cameras)
        if not ages:
            return "not subscribed to their topics (the node is not active)"
        return f"topics: {topic_silence(ages)}"

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

    def _answer(self, request, outcome: QueryOutcome, index: SnapshotIndex, started: float) -> SpatialAnswer:
        answer = SpatialAnswer()
        answer.header.stamp = self._clock.now().to_msg()
        answer.header.frame_id = index.world_frame
        answer.query_id = outcome.query_id
        answer.question = request.question
        answer.error_code = getattr(SpatialAnswer, outcome.error_code)
        answer.error_message = "; ".join(
            part for part in (outcome.error_message, self._depth_warning(index)) if part
        )
        fill_answer(answer, outcome)
        answer.source_frames = [source_frame(frame) for frame in index.frames]
        answer.elapsed = seconds_to_duration(time.monotonic() - started)
        return answer


def _report(
    progress: ProgressCallback | None, stage: str, summary: str, max_steps: int, started: float
) -> None:
    if progress is not None:
        progress(Progress(stage, 0, max_steps, summary, time.monotonic() - started))
