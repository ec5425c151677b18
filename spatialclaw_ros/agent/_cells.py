"""Running one cell of the query and turning its result into what the model sees next.

A cell runs once the namespace is loaded; its displays are sorted (step report, images, outputs),
its ``show()`` images encoded once within the per-step and per-query image budgets, and the whole
recorded. :meth:`CellRunner.observation` writes the user turn the model reads after it.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

from spatialclaw_ros.agent._bootstrap import Bootstrap
from spatialclaw_ros.agent._conversation import Turn
from spatialclaw_ros.agent._executor import Executor, execute
from spatialclaw_ros.agent._images import WORKERS, EncodedImage, ImageDecodeError, WorkerError, encode_bytes
from spatialclaw_ros.agent._observe import CellReport, error_summary, observation_text, read_cell
from spatialclaw_ros.agent._query import Query
from spatialclaw_ros.agent._types import CancelToken, ErrorCode
from spatialclaw_ros.protocol.perception import PerceptionError
from spatialclaw_ros.sandbox import CellResult

# How often a running cell is interrupted again once the query was cancelled, seconds.
CANCEL_POLL_S = 0.1


@dataclass(frozen=True)
class RanCell:
    """A cell's result, its displays sorted, and its ``show()`` images encoded for the model."""

    result: CellResult
    report: CellReport
    images: list[EncodedImage]
    image_note: str


class CellRunner:
    """Runs the cells of one query in its executor and keeps count of the images shown."""

    def __init__(self, query: Query, executor: Executor, bootstrap: Bootstrap, cancel: CancelToken) -> None:
        """Cells run in ``executor`` once ``bootstrap`` loaded the namespace; none starts after ``cancel``."""
        self._query = query
        self._executor = executor
        self._bootstrap = bootstrap
        self._cancel = cancel
        self.images_shown = 0

    async def run(self, code: str, source: str, deadline: float, limit_s: float = math.inf) -> RanCell:
        """Run ``code`` (``source``: model, request or final) until ``deadline``, for at most ``limit_s`` s.

        ``deadline`` is a ``time.monotonic()`` second.
        """
        query = self._query
        await self._bootstrap.wait()
        query.trace.event("cell", step=query.budget.steps, source=source, code=code)
        with query.stages.measure("cell"):
            result = await self._execute(code, min(limit_s, query.budget.remaining_s(deadline)))
        with query.stages.measure("observation"):
            report = read_cell(result)
            if result.error is not None and result.error.ename == PerceptionError.__name__:
                error_code = PerceptionError.code_in(result.error.evalue)
                query.perception_unavailable |= error_code == ErrorCode.PERCEPTION_UNAVAILABLE
            cell = await self._with_shown_images(result, report)
        query.trace.event(
            "cell_result",
            step=query.budget.steps,
            status=result.status,
            duration_s=result.duration_s,
            stdout=result.stdout,
            stderr=result.stderr,
            error=error_summary(result),
            state_lost=result.state_lost,
            variables=[
                {"name": variable.name, "new": variable.new, "summary": variable.summary}
                for variable in report.variables
            ],
            images=[{"path": query.trace.image(image), "label": image.label} for image in cell.images],
            answer=report.answer,
        )
        return cell

    async def _execute(self, code: str, timeout_s: float) -> CellResult:
        """Run one cell; a cancel stops it even if it came before the cell started.

        ``Executor.interrupt`` does nothing while no cell runs, so a cancel landing between the check
        and the cell's start would be lost: it is repeated every ``CANCEL_POLL_S`` until the cell ends.
        """
        if self._cancel.cancelled:
            raise asyncio.CancelledError
        running = asyncio.ensure_future(execute(self._executor, code, timeout_s))
        while not (await asyncio.wait({running}, timeout=CANCEL_POLL_S))[0]:
            if self._cancel.cancelled:
                self._executor.interrupt()
        return running.result()

    def observation(self, cell: RanCell, notes: list[str]) -> Turn:
        """The user turn that shows the model what ``cell`` did, ``notes`` (hints from the loop) last."""
        query = self._query
        text = observation_text(
            step=query.budget.steps,
            max_steps=query.budget.max_steps,
            result=cell.result,
            report=cell.report,
            image_labels=[image.label for image in cell.images],
            image_note=cell.image_note,
            notes=notes,
            output_max_chars=query.settings.output_max_chars,
        )
        return Turn("user", "observation", text, list(cell.images))

    async def _with_shown_images(self, result: CellResult, report: CellReport) -> RanCell:
        """Encode the cell's ``show()`` images once, within the per-step and per-query budgets.

        Decoding runs in the image workers (their own memory bound), never on this event loop.
        """
        settings, llm = self._query.settings, self._query.llm
        images: list[EncodedImage] = []
        notes: list[str] = []
        dropped = 0
        for data, label in report.images:
            per_step = len(images) < settings.max_images_per_step
            if not per_step or self.images_shown >= settings.max_images_per_query:
                dropped += 1
                continue
            try:
                images.append(
                    await WORKERS.run(encode_bytes, data, label, llm.max_image_side_px, llm.jpeg_quality)
                )
            except (ImageDecodeError, WorkerError, MemoryError) as error:
                notes.append(f"An image could not be decoded: {error or type(error).__name__}")
                continue
            self.images_shown += 1
            self._query.last_shown_jpeg = images[-1].jpeg
        if dropped:
            notes.append(
                f"{dropped} image(s) not shown: at most {settings.max_images_per_step} per step and "
                f"{settings.max_images_per_query} per query ({self.images_shown} shown so far)."
            )
        return RanCell(result, report, images, " ".join(notes))
