"""The cell that loads the query's namespace (frames, meta, tools, show, vlm, ReturnAnswer) into the kernel.

It starts as soon as the snapshot is read and runs while the first request is prepared and answered,
off the path to the model; the first cell waits for it. After the kernel lost its state it runs again.
"""

from __future__ import annotations

import asyncio

from spatialclaw_ros.agent._chat_model import DeadlineError
from spatialclaw_ros.agent._executor import Executor, execute
from spatialclaw_ros.agent._failure import QueryError
from spatialclaw_ros.agent._observe import error_summary, read_cell
from spatialclaw_ros.agent._query import Query
from spatialclaw_ros.agent._types import ErrorCode
from spatialclaw_ros.protocol.vlm_ask import SOCKET_NAME
from spatialclaw_ros.runtime.namespace import bootstrap_code
from spatialclaw_ros.sandbox import CellResult

#: Most seconds the namespace may take to load.
BOOTSTRAP_TIMEOUT_S = 60.0


class Bootstrap:
    """Loads the namespace of one query into its kernel: :meth:`start`, :meth:`wait`, :meth:`reload`."""

    def __init__(self, query: Query, executor: Executor) -> None:
        """Nothing runs until :meth:`start`."""
        self._query = query
        self._executor = executor
        self._running: asyncio.Future[CellResult] | None = None
        self._loaded = False

    def start(self) -> None:
        """Start loading in the background (the snapshot must have been read: the cell names its frame)."""
        budget = self._query.budget
        timeout_s = min(BOOTSTRAP_TIMEOUT_S, budget.remaining_s(budget.deadline))
        self._running = asyncio.ensure_future(execute(self._executor, self._code(), timeout_s))

    async def wait(self) -> None:
        """Return once the namespace is loaded (at once after the first time).

        Raises:
            DeadlineError: the query's budget ran out first.
            QueryError: ``SANDBOX_ERROR`` when the namespace could not be loaded.
        """
        if self._loaded:
            return
        assert self._running is not None, "start() comes first"
        query = self._query
        try:
            with query.stages.measure("bootstrap_wait"):
                remaining_s = query.budget.remaining_s(query.budget.deadline)
                result = await asyncio.wait_for(asyncio.shield(self._running), remaining_s)
        except asyncio.TimeoutError:
            raise DeadlineError from None
        report = read_cell(result)
        query.trace.event(
            "bootstrap",
            status=result.status,
            duration_s=result.duration_s,
            ready=report.ready,
            error=error_summary(result),
            stderr=result.stderr[-2000:],
        )
        if result.status != "ok" or report.ready is None:
            detail = error_summary(result) or result.stderr[-500:] or result.status
            message = f"the kernel could not load the query's namespace: {detail}"
            raise QueryError(ErrorCode.SANDBOX_ERROR, message)
        self._loaded = True

    async def reload(self) -> None:
        """Load the namespace again into a kernel that lost its state. Raises ``QueryError`` if it cannot."""
        budget = self._query.budget
        timeout_s = min(BOOTSTRAP_TIMEOUT_S, budget.remaining_s(budget.deadline))
        result = await execute(self._executor, self._code(), timeout_s)
        if result.status != "ok" or read_cell(result).ready is None:
            raise QueryError(ErrorCode.SANDBOX_ERROR, "the kernel died and could not be set up again")

    def stop(self) -> None:
        """Interrupt the loading cell if it still runs (the query ended before it was needed)."""
        if self._running is not None and not self._running.done():
            self._executor.interrupt()

    def _code(self) -> str:
        request, llm = self._query.request, self._query.llm
        return bootstrap_code(
            {
                "question": request.question,
                "answer_type": request.answer_type,
                "choices": list(request.choices),
                "target_frame": request.target_frame or self._query.world_frame,
                "max_images_per_step": self._query.settings.max_images_per_step,
                "max_image_side_px": llm.max_image_side_px,
                "vlm_timeout_s": llm.timeout_s * (llm.retries + 1),
                "vlm_socket_name": SOCKET_NAME,
            }
        )
