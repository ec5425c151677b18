"""Fair scheduling of perception calls between queries: one worker, a bounded queue per query, round-robin.

Every call belongs to an identity, the query id the node's relay puts in ``X-Spatialclaw-Query`` (the
host's own calls, without it, are identity ``""``). One worker thread computes one call at a time (the
models are not thread-safe and share one device); it takes the oldest waiting call of each identity in
turn, so a query that queued slow work delays another's call by at most the one call then running. A
query may have at most ``max_queued_per_query`` calls waiting (``BUSY`` past it; the host is not bounded).

Ending a query (:meth:`FairScheduler.end`) fails its waiting calls at once with ``CANCELED``, marks
its running call so that its result is neither kept (:meth:`Job.commit`) nor returned, and refuses
its later calls for a bounded time and number of ended queries.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Generic, TypeVar

from spatialclaw_ros.protocol.errors import release_frames
from spatialclaw_ros.protocol.perception import PerceptionError

Result = TypeVar("Result")

#: The identity of requests without ``X-Spatialclaw-Query``: the host itself, never ended or bounded.
HOST_IDENTITY = ""
ENDED_KEPT = 4096
ENDED_KEPT_S = 3600.0


class Job(Generic[Result]):
    """One call: its identity, its work, the future its caller waits on, and whether it was discarded."""

    def __init__(self, identity: str, work: Callable[[Job[Result]], Result]) -> None:
        """``work`` runs on the worker thread and receives this job (to :meth:`commit` through it)."""
        self.identity = identity
        self.work = work
        self.future: concurrent.futures.Future[Result] = concurrent.futures.Future()
        self._discarded = False
        self._lock = threading.Lock()

    @property
    def discarded(self) -> bool:
        """True once its query ended: its result is dropped."""
        return self._discarded

    def discard(self) -> None:
        """Drop the result; a :meth:`commit` that has not started yet will not run."""
        with self._lock:
            self._discarded = True

    def commit(self, action: Callable[[], None]) -> bool:
        """Run ``action`` (keep the result, e.g. cache it) unless discarded; atomic with :meth:`discard`."""
        with self._lock:
            if self._discarded:
                return False
            action()
            return True


def _canceled(identity: str) -> PerceptionError:
    return PerceptionError("CANCELED", f"query {identity!r} has ended; its perception calls are dropped")


class FairScheduler:
    """One worker thread serving per-identity FIFO queues round-robin (see the module docstring)."""

    def __init__(
        self,
        max_queued_per_query: int,
        ended_kept: int = ENDED_KEPT,
        ended_kept_s: float = ENDED_KEPT_S,
        name: str = "perception",
    ) -> None:
        """Start the worker; ``ended_kept`` ended identities are remembered for ``ended_kept_s`` seconds."""
        if max_queued_per_query < 1:
            raise ValueError("max_queued_per_query must be >= 1")
        self._max_queued = max_queued_per_query
        self._ended_kept = ended_kept
        self._ended_kept_s = ended_kept_s
        self._queues: OrderedDict[str, deque[Job]] = OrderedDict()
        self._ended: OrderedDict[str, float] = OrderedDict()
        self._running: Job | None = None
        self._closed = False
        self._wake = threading.Condition()
        self._worker = threading.Thread(target=self._serve, name=name, daemon=True)
        self._worker.start()

    def submit(
        self, identity: str, work: Callable[[Job[Result]], Result]
    ) -> concurrent.futures.Future[Result]:
        """Queue ``work`` for ``identity``; its future holds the result or the exception it raised.

        Raises:
            PerceptionError: ``CANCELED`` for an ended identity, ``BUSY`` when it already has
                ``max_queued_per_query`` calls waiting, ``PERCEPTION_UNAVAILABLE`` once closed.
        """
        job: Job[Result] = Job(identity, work)
        with self._wake:
            if self._closed:
                raise PerceptionError("PERCEPTION_UNAVAILABLE", "the perception service is shutting down")
            if self._is_ended(identity):
                raise _canceled(identity)
            queue = self._queues.setdefault(identity, deque())
            if identity != HOST_IDENTITY and len(queue) >= self._max_queued:
                raise PerceptionError(
                    "BUSY",
                    f"this query already has {len(queue)} perception calls waiting "
                    f"(at most {self._max_queued}); wait for one to answer",
                )
            queue.append(job)
            self._wake.notify()
        return job.future

    def ended(self, identity: str) -> bool:
        """Whether ``identity`` has ended (and is still remembered)."""
        with self._wake:
            return self._is_ended(identity)

    def end(self, identity: str) -> int:
        """End ``identity``: fail its waiting calls (CANCELED), discard its running one; returns how many."""
        if identity == HOST_IDENTITY:
            raise ValueError("the host identity cannot be ended")
        with self._wake:
            self._ended.pop(identity, None)
            self._ended[identity] = time.monotonic()
            self._forget_old_ended()
            dropped = list(self._queues.pop(identity, ()))
            running = (
                self._running if self._running is not None and self._running.identity == identity else None
            )
        if running is not None:
            running.discard()
        for job in dropped:
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(_canceled(identity))
        return len(dropped) + (running is not None)

    def close(self) -> None:
        """Stop the worker after its current call; waiting calls fail with PERCEPTION_UNAVAILABLE."""
        with self._wake:
            self._closed = True
            dropped = [job for queue in self._queues.values() for job in queue]
            self._queues.clear()
            self._wake.notify_all()
        for job in dropped:
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(
                    PerceptionError("PERCEPTION_UNAVAILABLE", "the perception service is shutting down")
                )

    def _is_ended(self, identity: str) -> bool:
        self._forget_old_ended()
        return identity in self._ended

    def _forget_old_ended(self) -> None:
        horizon = time.monotonic() - self._ended_kept_s
        while self._ended and (
            len(self._ended) > self._ended_kept or next(iter(self._ended.values())) < horizon
        ):
            self._ended.popitem(last=False)

    def _next(self) -> Job | None:
        """The next identity's oldest call (that identity moves to the back), None once closed."""
        with self._wake:
            while not self._queues and not self._closed:
                self._wake.wait()
            if self._closed:
                return None
            identity, queue = next(iter(self._queues.items()))
            job = queue.popleft()
            if queue:
                self._queues.move_to_end(identity)
            else:
                del self._queues[identity]
            self._running = job
            return job

    def _serve(self) -> None:
        while (job := self._next()) is not None:
            try:
                self._run(job)
            finally:
                with self._wake:
                    self._running = None
            # Not held while waiting for the next call: the job's work holds its request's buffers.
            del job

    @staticmethod
    def _run(job: Job[Result]) -> None:
        """Run ``job`` (unless its caller gave up) and settle its future."""
        if not job.future.set_running_or_notify_cancel():
            return
        try:
            result = job.work(job)
        except Exception as error:
            release_frames(error)  # the request's buffers go now, not at the next collection
            job.future.set_exception(_canceled(job.identity) if job.discarded else error)
        else:
            if job.discarded:
                job.future.set_exception(_canceled(job.identity))
            else:
                job.future.set_result(result)
