"""The code-as-action loop: plan → [model writes a cell → kernel runs it → observation] × N → answer.

:class:`Agent` owns one event loop thread and one VLM client; :meth:`Agent.run` answers one query in
a kernel the caller acquired (and closes afterwards), blocking the calling thread. Several queries
may run at once from different threads. Every failure ends as a :class:`QueryOutcome` with an error
code; nothing a model, a kernel or a server does raises out of :meth:`Agent.run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from spatialclaw_ros.agent import _prompts
from spatialclaw_ros.agent._conversation import Conversation, Turn
from spatialclaw_ros.agent._images import EncodedImage, ImageDecodeError, encode_bytes, encode_rgb
from spatialclaw_ros.agent._llm import (
    ChatResult,
    ContextOverflowError,
    DeadlineError,
    LLMClient,
    ModelHealth,
    ModelUnavailableError,
)
from spatialclaw_ros.agent._observe import CellReport, error_summary, observation_text, read_cell
from spatialclaw_ros.agent._parse import parse_reply
from spatialclaw_ros.agent._settings import AgentSettings, LLMSettings
from spatialclaw_ros.agent._trace import Trace
from spatialclaw_ros.agent._types import (
    CancelToken,
    ErrorCode,
    Progress,
    ProgressCallback,
    QueryOutcome,
    QueryRequest,
    outcome_geometry,
)
from spatialclaw_ros.agent._vlm_service import AskError, AskServer
from spatialclaw_ros.protocol.perception import PerceptionError
from spatialclaw_ros.protocol.vlm_ask import SOCKET_NAME
from spatialclaw_ros.runtime.answer import AnswerError, validate_payload
from spatialclaw_ros.runtime.namespace import bootstrap_code
from spatialclaw_ros.sandbox import CellResult, Kernel, SandboxError

LOG = logging.getLogger("spatialclaw_ros.agent")
CONTEXT_MARGIN = 0.05
FINAL_CELL_TIMEOUT_S = 20.0
BOOTSTRAP_TIMEOUT_S = 60.0


class Agent:
    """Answers spatial questions by letting a VLM write cells into a query's kernel.

    Thread-safe: :meth:`run` may be called from several threads at once; the VLM calls of all
    queries share one event loop thread and one HTTP connection pool.
    """

    def __init__(self, llm: LLMSettings, settings: AgentSettings) -> None:
        """Start the agent's event loop thread and VLM client (no network traffic yet)."""
        self.llm_settings = llm
        self.settings = settings
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="spatialclaw-agent", daemon=True)
        self._thread.start()
        self._client = LLMClient(llm)
        self._system_prompt = _system_prompt(settings)
        self._closed = False

    @property
    def system_prompt(self) -> str:
        """The system prompt every query starts with."""
        return self._system_prompt

    def check_model(self, timeout_s: float = 5.0) -> ModelHealth:
        """List the endpoint's models (configure-time health check); never raises for network errors."""
        future = asyncio.run_coroutine_threadsafe(self._client.health(timeout_s), self._loop)
        return future.result(timeout_s + 5.0)

    def run(
        self,
        request: QueryRequest,
        kernel: Kernel,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> QueryOutcome:
        """Answer ``request`` in ``kernel`` (its ``snapshot_dir`` already holds the frames); blocks.

        ``progress`` is called from the agent's thread at each stage; ``cancel`` may be cancelled
        from any thread (the query then ends with ``CANCELED`` within a fraction of a second). The
        caller closes the kernel afterwards.
        """
        if self._closed:
            raise RuntimeError("the agent is closed")
        query = _Query(self, request, kernel, progress, cancel or CancelToken())
        return asyncio.run_coroutine_threadsafe(query.run(), self._loop).result()

    def close(self) -> None:
        """Close the VLM client and stop the event loop thread."""
        if self._closed:
            return
        self._closed = True
        asyncio.run_coroutine_threadsafe(self._client.close(), self._loop).result(10.0)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10.0)
        self._loop.close()

    def __enter__(self) -> Agent:
        """Return self."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the agent."""
        self.close()


def _system_prompt(settings: AgentSettings) -> str:
    from spatialclaw_ros import geometry
    from spatialclaw_ros.runtime import tools

    tools_reference = _prompts.render("tools", reference=_prompts.api_reference("tools", tools))
    return _prompts.render(
        "system",
        max_steps=settings.max_steps,
        tools_reference=tools_reference,
        geo_reference=_prompts.api_reference("geo", geometry),
        max_images_per_step=settings.max_images_per_step,
        max_images_per_query=settings.max_images_per_query,
    )


class _StopError(Exception):
    """Ends a query with an error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class _Cell:
    """A cell's result, its displays sorted, and its ``show()`` images encoded for the model."""

    result: CellResult
    report: CellReport
    images: list[EncodedImage]
    image_note: str


@dataclass
class _Answer:
    payload: dict[str, Any]
    final: bool


class _Query:
    """The state of one query while it runs on the agent's loop."""

    def __init__(
        self,
        agent: Agent,
        request: QueryRequest,
        kernel: Kernel,
        progress: ProgressCallback | None,
        cancel: CancelToken,
    ) -> None:
        self.agent = agent
        self.settings = agent.settings
        self.llm = agent._client
        self.request = request
        self.kernel = kernel
        self.progress_callback = progress
        self.cancel = cancel
        self.trace = Trace(self.settings.trace_dir, request.query_id, self.settings.trace_max_mb)
        self.started = time.monotonic()
        timeout_s = request.timeout_s if request.timeout_s > 0 else self.settings.timeout_s
        self.deadline = self.started + timeout_s
        reserve_s = min(self.settings.final_reserve_s, timeout_s / 4) if self.settings.final_answer else 0.0
        self.step_deadline = self.deadline - (0.0 if request.code else reserve_s)
        self.conversation = Conversation()
        self.tokens: dict[str, list[int]] = {}
        self.stage_s: dict[str, float] = {}
        self.steps = 0
        self.failures = 0
        self.images_shown = 0
        self.last_shown_jpeg: bytes | None = None
        self.vlm_asks = 0
        self.first_request_s: float | None = None
        self.perception_unavailable = False
        self.source_stamps: tuple[float, ...] = ()
        self.world_frame = ""
        self.bootstrap: asyncio.Future[CellResult] | None = None
        self.bootstrapped = False

    # ----------------------------------------------------------------------------------- driver

    async def run(self) -> QueryOutcome:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        assert task is not None

        def on_cancel() -> None:
            loop.call_soon_threadsafe(task.cancel)
            self.kernel.interrupt()

        unsubscribe = self.cancel.subscribe(on_cancel)
        ask_server: AskServer | None = None
        answer: _Answer | None = None
        code, message = ErrorCode.NONE, ""
        self.trace.event(
            "query",
            question=self.request.question,
            answer_type=self.request.answer_type,
            choices=list(self.request.choices),
            target_frame=self.request.target_frame,
            code=self.request.code,
            timeout_s=self.deadline - self.started,
            model=self.llm.model or self.agent.llm_settings.model,
            base_url=self.agent.llm_settings.base_url,
        )
        try:
            frames = self._load_frames()
            ask_server = await self._start_ask_server()
            bootstrap_timeout_s = min(BOOTSTRAP_TIMEOUT_S, self._remaining(self.deadline))
            self.bootstrap = asyncio.ensure_future(self._execute(self._bootstrap_code(), bootstrap_timeout_s))
            if self.request.code:
                answer = await self._run_code()
            else:
                answer = await self._run_model(frames)
        except _StopError as stop:
            code, message = stop.code, stop.message
        except asyncio.CancelledError:
            with contextlib.suppress(AttributeError):
                task.uncancel()
            code, message = ErrorCode.CANCELED, "the query was canceled"
        except ModelUnavailableError as error:
            code, message = ErrorCode.MODEL_UNAVAILABLE, str(error)
        except DeadlineError:
            code, message = (
                ErrorCode.TIMEOUT,
                f"the query ran past its {self.deadline - self.started:.1f} s budget",
            )
        except SandboxError as error:
            code, message = ErrorCode.SANDBOX_ERROR, f"the kernel failed: {error}"
        except Exception as error:
            LOG.exception("query %s failed", self.request.query_id)
            code, message = ErrorCode.AGENT_FAILED, f"internal error: {type(error).__name__}: {error}"
        finally:
            unsubscribe()
            if self.bootstrap is not None and not self.bootstrap.done():
                self.kernel.interrupt()
            if ask_server is not None:
                # A cancel landing here must not escape run(): the outcome still has to be made.
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(ask_server.close())
        if code == ErrorCode.NONE and answer is None:
            code, message = ErrorCode.AGENT_FAILED, "the query ended without an answer"
        return self._finish(answer, code, message)

    def _finish(self, answer: _Answer | None, code: str, message: str) -> QueryOutcome:
        if code == ErrorCode.AGENT_FAILED and self.perception_unavailable:
            code = ErrorCode.PERCEPTION_UNAVAILABLE
            message = f"{message} (a perception backend was unavailable)"
        measurements, objects, trajectories = (
            outcome_geometry(answer.payload)
            if answer is not None and code == ErrorCode.NONE
            else ((), (), ())
        )
        outcome = QueryOutcome(
            query_id=self.trace.dir.name if self.trace.dir is not None else self.request.query_id,
            question=self.request.question,
            answer=answer.payload["answer"] if answer is not None and code == ErrorCode.NONE else "",
            error_code=code,
            error_message=message,
            measurements=measurements,
            objects=objects,
            trajectories=trajectories,
            source_stamps=self.source_stamps,
            world_frame=self.world_frame,
            steps=self.steps,
            elapsed_s=time.monotonic() - self.started,
            trace_uri=self.trace.uri,
            final_fallback=bool(answer is not None and answer.final and code == ErrorCode.NONE),
            tokens={role: (counts[0], counts[1]) for role, counts in self.tokens.items()},
            last_shown_jpeg=self.last_shown_jpeg,
        )
        self.trace.event(
            "outcome",
            answer=outcome.answer,
            error_code=code,
            error_message=message,
            steps=self.steps,
            elapsed_s=outcome.elapsed_s,
            final_fallback=outcome.final_fallback,
            first_request_s=self.first_request_s,
            tokens={
                role: {"prompt": c[0], "completion": c[1], "calls": c[2]} for role, c in self.tokens.items()
            },
            stage_s=self._stage_totals(),
            context={
                "dropped_images": self.conversation.dropped_images,
                "compressed_turns": self.conversation.compressed_turns,
                "dropped_steps": self.conversation.dropped_turns,
            },
            value=answer.payload.get("value") if answer is not None else None,
        )
        self.trace.finish()
        self._progress("done", f"{code}: {outcome.answer or message}"[:200])
        return outcome

    # ---------------------------------------------------------------------------- preparation

    def _load_frames(self) -> Any:
        from spatialclaw_ros.runtime.frames import load_frames

        with self._stage("snapshot"):
            try:
                frames = load_frames(self.kernel.snapshot_dir)
            except (OSError, ValueError, KeyError) as error:
                raise _StopError(ErrorCode.NO_DATA, f"the snapshot cannot be read: {error}") from None
            if len(frames) == 0:
                raise _StopError(ErrorCode.NO_DATA, "the snapshot holds no frames")
            self.source_stamps = tuple(sorted({float(frame.stamp) for frame in frames}))
            self.world_frame = str(frames[0].world_frame)
        self.trace.event(
            "snapshot",
            frames=len(frames),
            cameras=list(frames.cameras),
            first_stamp=self.source_stamps[0],
            last_stamp=self.source_stamps[-1],
            world_frame=self.world_frame,
        )
        return frames

    async def _start_ask_server(self) -> AskServer | None:
        server = AskServer(self.kernel.services_dir, self._ask)
        try:
            with self._stage("ask_server"):
                await server.start()
                self.kernel.share_socket(server.path)
        except (OSError, ValueError) as error:
            LOG.error("vlm.ask is unavailable for this query: %s", error)
            self.trace.event("error", stage="vlm_ask", message=f"vlm.ask socket: {error}")
            await server.close()
            return None
        return server

    def _bootstrap_code(self) -> str:
        return bootstrap_code(
            {
                "question": self.request.question,
                "answer_type": self.request.answer_type,
                "choices": list(self.request.choices),
                "target_frame": self.request.target_frame or self.world_frame,
                "max_images_per_step": self.settings.max_images_per_step,
                "max_image_side_px": self.agent.llm_settings.max_image_side_px,
                "vlm_timeout_s": self.agent.llm_settings.timeout_s * (self.agent.llm_settings.retries + 1),
                "vlm_socket_name": SOCKET_NAME,
            }
        )

    async def _await_bootstrap(self) -> None:
        """Wait for the bootstrap cell (once): the query's namespace must be loaded before any cell runs.

        It runs while the first request is prepared and answered, off the path to the model.
        """
        if self.bootstrapped:
            return
        assert self.bootstrap is not None
        try:
            with self._stage("bootstrap_wait"):
                remaining_s = self._remaining(self.deadline)
                result = await asyncio.wait_for(asyncio.shield(self.bootstrap), remaining_s)
        except asyncio.TimeoutError:
            raise DeadlineError from None
        report = read_cell(result)
        self.trace.event(
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
            raise _StopError(ErrorCode.SANDBOX_ERROR, message)
        self.bootstrapped = True

    # ------------------------------------------------------------------------------- code path

    async def _run_code(self) -> _Answer:
        self._progress("step", "running the request's code")
        self.steps = 1
        cell = await self._run_cell(self.request.code, "request", self.deadline)
        result, report = cell.result, cell.report
        if report.answer is not None:
            try:
                return _Answer(self._validate(report.answer), final=False)
            except AnswerError as error:
                raise _StopError(ErrorCode.AGENT_FAILED, f"the code's answer is invalid: {error}") from None
        if result.status == "timeout":
            raise _StopError(ErrorCode.TIMEOUT, "the code ran past the query's time budget")
        if result.status != "ok":
            detail = error_summary(result) or result.status
            raise _StopError(ErrorCode.AGENT_FAILED, f"the code failed: {detail}")
        raise _StopError(ErrorCode.AGENT_FAILED, "the code did not call ReturnAnswer(...)")

    # ------------------------------------------------------------------------------ model path

    async def _run_model(self, frames: Any) -> _Answer:
        with self._stage("prompt"):
            self._add_turn(Turn("system", "system", self.agent.system_prompt))
        task = self._task_turn(frames)
        with self._stage("prompt"):
            self._add_turn(task)
        if self.settings.planning:
            self._progress("planning", "asking the model for a plan")
            plan_request = Turn("user", "plan", _prompts.render("plan"))
            reply = await self._chat("plan", self.step_deadline, [plan_request])
            plan = parse_reply(reply.text).reasoning or reply.text.strip()
            self._add_turn(plan_request)
            self._add_turn(Turn("assistant", "plan", plan or "(no plan)"))
            self._add_turn(Turn("user", "begin", _prompts.render("begin")))
        while True:
            if self.steps >= self.settings.max_steps:
                return await self._final_answer(ErrorCode.AGENT_FAILED)
            if time.monotonic() >= self.step_deadline:
                return await self._final_answer(ErrorCode.TIMEOUT)
            self._progress("step", "waiting for the model's next cell")
            try:
                reply = await self._chat("step", self.step_deadline)
            except DeadlineError:
                return await self._final_answer(ErrorCode.TIMEOUT)
            answer = await self._handle_reply(reply)
            if answer is not None:
                return answer

    async def _handle_reply(self, reply: ChatResult) -> _Answer | None:
        with self._stage("reply"):
            parsed = parse_reply(reply.text)
            shown = (
                parsed.reasoning
                if parsed.code is None
                else f"{parsed.reasoning}\n\n```python\n{parsed.code}\n```"
            )
            self._add_turn(Turn("assistant", "cell", shown.strip() or "(empty reply)"))
        if parsed.code is None:
            self.trace.event("parse_error", error=parsed.error, reply=reply.text)
            self._fail(f"the model's replies had no usable cell {self.failures + 1} times")
            self._add_turn(Turn("user", "feedback", _prompts.render(parsed.error or "no_code")))
            return None
        self.steps += 1
        self._progress("step", f"running cell {self.steps}")
        cell = await self._run_cell(parsed.code, "model", self.step_deadline, self.settings.cell_timeout_s)
        result, report = cell.result, cell.report
        notes: list[str] = []
        if report.answer is not None:
            try:
                return _Answer(self._validate(report.answer), final=False)
            except AnswerError as error:
                self.trace.event("invalid_answer", reason=str(error))
                notes.append(_prompts.render("invalid_answer", reason=str(error)))
                self._fail(f"invalid answers and unusable replies reached {self.failures + 1}")
        elif result.error is not None and result.error.ename == "AnswerError":
            self.trace.event("invalid_answer", reason=result.error.evalue)
            self._fail(f"invalid answers and unusable replies reached {self.failures + 1}")
        if result.state_lost:
            await self._rebootstrap()
            notes.append(_prompts.render("restarted"))
        if self.steps == self.settings.max_steps - 1:
            notes.append(_prompts.render("last_step"))
        with self._stage("observation"):
            self._add_turn(self._observation(cell, notes))
        return None

    async def _final_answer(self, code: ErrorCode) -> _Answer:
        """An answer from the evidence so far; ``code`` says why the steps ended (TIMEOUT, AGENT_FAILED)."""
        timed_out = code == ErrorCode.TIMEOUT
        reason = "The time budget is nearly spent." if timed_out else "The step budget is spent."
        failure = "ran past its time budget" if timed_out else "used all its steps"
        if not self.settings.final_answer:
            raise _StopError(code, f"the query {failure} without an answer")
        self._progress("final", "asking for a final answer from the evidence so far")
        prompt = Turn("user", "feedback", _prompts.render("final", reason=reason))
        try:
            reply = await self._chat("final", self.deadline, [prompt])
        except DeadlineError:
            raise _StopError(code, f"the query {failure}; no time was left for a final answer") from None
        self._add_turn(prompt)
        parsed = parse_reply(reply.text)
        self._add_turn(Turn("assistant", "cell", reply.text.strip() or "(empty reply)"))
        if parsed.code is None:
            raise _StopError(code, f"the query {failure}; the final answer-only reply had no cell")
        self.steps += 1
        cell = await self._run_cell(parsed.code, "final", self.deadline, FINAL_CELL_TIMEOUT_S)
        result, report = cell.result, cell.report
        if report.answer is None:
            detail = error_summary(result) or "it did not call ReturnAnswer"
            raise _StopError(code, f"the query {failure}; the final answer-only cell failed: {detail}")
        try:
            payload = self._validate(report.answer)
        except AnswerError as error:
            raise _StopError(code, f"the query {failure}; the final answer was invalid: {error}") from None
        self.trace.event("answer", final_fallback=True, reason=reason)
        return _Answer(payload, final=True)

    def _task_turn(self, frames: Any) -> Turn:
        t0 = self.source_stamps[0]
        with self._stage("key_frames"):
            images = [
                encode_rgb(
                    np.asarray(frames[index].image),
                    f"frame {index} · {frames[index].camera} · t = +{float(frames[index].stamp) - t0:.2f} s",
                    self.agent.llm_settings.max_image_side_px,
                    self.agent.llm_settings.jpeg_quality,
                )
                for index in _key_frame_indices(frames, self.settings.key_frames)
            ]
        with self._stage("prompt"):
            return self._task_text_turn(frames, images)

    def _task_text_turn(self, frames: Any, images: list[EncodedImage]) -> Turn:
        t0 = self.source_stamps[0]
        answer_type = self.request.answer_type or "free"
        choices = ", ".join(repr(choice) for choice in self.request.choices)
        text = _prompts.render(
            "task",
            question=self.request.question,
            answer_type_line=_prompts.render(f"answer_{answer_type}", choices=choices),
            frame_count=f"{len(frames)} frames",
            time_span=f"{self.source_stamps[-1] - t0:.2f} s from t0 = {t0:.3f} s",
            frame_overview=_frame_overview(frames, t0),
            world_frame=self.request.target_frame or self.world_frame or "the first frame's camera",
            key_frames_line=(
                f"{len(images)} key frames are attached below." if images else "No key frames are attached."
            ),
        )
        return Turn("user", "task", text, images)

    # --------------------------------------------------------------------------------- helpers

    async def _chat(self, role: str, deadline: float, extra: list[Turn] | None = None) -> ChatResult:
        llm = self.agent.llm_settings
        budget = int(llm.context_tokens * (1 - CONTEXT_MARGIN)) - llm.role(role).max_tokens
        budget = max(budget, llm.context_tokens // 2)
        for _attempt in range(4):
            with self._stage("request"):
                fitted = self.conversation.fit(budget, extra)
                estimate = self.conversation.estimate(extra)
                messages = self.conversation.messages(extra)
            self.trace.event(
                "llm_request",
                role=role,
                estimate=estimate,
                budget=budget,
                fitted=fitted,
                messages=len(self.conversation.turns) + len(extra or []),
                dropped_images=self.conversation.dropped_images,
                compressed_turns=self.conversation.compressed_turns,
                dropped_steps=self.conversation.dropped_turns,
                stage_s=self._stage_totals(),
            )
            if self.first_request_s is None:
                self.first_request_s = time.monotonic() - self.started
            try:
                with self._stage(f"llm_{role}"):
                    result = await self.llm.chat(role, messages, estimate, deadline)
            except ContextOverflowError as error:
                self.trace.event("context_overflow", role=role, message=str(error))
                if error.prompt_tokens:
                    self.conversation.calibrate(estimate, error.prompt_tokens)
                budget = int(budget * 0.85)
                continue
            if result.usage_reported:
                self.conversation.calibrate(estimate, result.prompt_tokens)
            self._count_tokens(role, result)
            self.trace.event(
                "llm_reply",
                role=role,
                text=result.text,
                prompt_tokens=result.prompt_tokens,
                completion_tokens=result.completion_tokens,
                finish_reason=result.finish_reason,
                duration_s=result.duration_s,
                attempts=result.attempts,
            )
            return result
        raise _StopError(
            ErrorCode.AGENT_FAILED, "the conversation does not fit the model's context even after shrinking"
        )

    async def _execute(self, code: str, timeout_s: float) -> CellResult:
        return await asyncio.to_thread(self.kernel.execute, code, max(0.1, timeout_s))

    async def _run_cell(self, code: str, source: str, deadline: float, limit_s: float = math.inf) -> _Cell:
        """Run a cell once the namespace is loaded, until ``deadline`` (monotonic s), at most ``limit_s``."""
        await self._await_bootstrap()
        self.trace.event("cell", step=self.steps, source=source, code=code)
        with self._stage("cell"):
            result = await self._execute(code, min(limit_s, self._remaining(deadline)))
        with self._stage("observation"):
            report = read_cell(result)
            if result.error is not None and result.error.ename == PerceptionError.__name__:
                code = PerceptionError.code_in(result.error.evalue)
                self.perception_unavailable |= code == ErrorCode.PERCEPTION_UNAVAILABLE
            cell = self._shown_images(result, report)
        self.trace.event(
            "cell_result",
            step=self.steps,
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
            images=[{"path": self.trace.image(image), "label": image.label} for image in cell.images],
            answer=report.answer,
        )
        return cell

    def _shown_images(self, result: CellResult, report: CellReport) -> _Cell:
        """Encode the cell's ``show()`` images once, within the per-step and per-query budgets."""
        images: list[EncodedImage] = []
        notes: list[str] = []
        dropped = 0
        llm = self.agent.llm_settings
        for data, label in report.images:
            per_step = len(images) < self.settings.max_images_per_step
            if not per_step or self.images_shown >= self.settings.max_images_per_query:
                dropped += 1
                continue
            try:
                images.append(encode_bytes(data, label, llm.max_image_side_px, llm.jpeg_quality))
            except ImageDecodeError as error:
                notes.append(f"An image could not be decoded: {error}")
                continue
            self.images_shown += 1
            self.last_shown_jpeg = images[-1].jpeg
        if dropped:
            notes.append(
                f"{dropped} image(s) not shown: at most {self.settings.max_images_per_step} per step and "
                f"{self.settings.max_images_per_query} per query ({self.images_shown} shown so far)."
            )
        return _Cell(result, report, images, " ".join(notes))

    async def _rebootstrap(self) -> None:
        result = await self._execute(
            self._bootstrap_code(), min(BOOTSTRAP_TIMEOUT_S, self._remaining(self.deadline))
        )
        if result.status != "ok" or read_cell(result).ready is None:
            raise _StopError(ErrorCode.SANDBOX_ERROR, "the kernel died and could not be set up again")

    def _observation(self, cell: _Cell, notes: list[str]) -> Turn:
        text = observation_text(
            step=self.steps,
            max_steps=self.settings.max_steps,
            result=cell.result,
            report=cell.report,
            image_labels=[image.label for image in cell.images],
            image_note=cell.image_note,
            notes=notes,
            output_max_chars=self.settings.output_max_chars,
        )
        return Turn("user", "observation", text, list(cell.images))

    async def _ask(self, question: str, images_png: list[bytes]) -> str:
        if self.vlm_asks >= self.settings.vlm_ask_max_calls:
            raise AskError(
                f"vlm.ask budget of {self.settings.vlm_ask_max_calls} calls per query is spent", 429
            )
        self.vlm_asks += 1
        llm = self.agent.llm_settings
        try:
            images = [
                encode_bytes(data, f"image {k + 1}", llm.max_image_side_px, llm.jpeg_quality)
                for k, data in enumerate(images_png)
            ]
        except ImageDecodeError as error:
            raise AskError(str(error), 400) from None
        if not images:
            raise AskError("vlm.ask needs at least one image", 400)
        turns = [Turn("system", "system", _prompts.render("vlm_ask")), Turn("user", "task", question, images)]
        estimate = sum(turn.tokens() for turn in turns)
        started = time.monotonic()
        try:
            with self._stage("vlm_ask"):
                result = await self.llm.chat(
                    "vlm_ask", [turn.message_json() for turn in turns], estimate, self.step_deadline
                )
        except (ModelUnavailableError, ContextOverflowError) as error:
            self.trace.event(
                "vlm_ask", question=question, error=str(error), duration_s=time.monotonic() - started
            )
            raise AskError(f"the VLM could not answer: {error}", 503) from None
        except DeadlineError:
            raise AskError("the query's time budget is spent", 504) from None
        self._count_tokens("vlm_ask", result)
        answer = parse_reply(result.text).reasoning or result.text.strip()
        stored = [{"path": self.trace.image(image), "label": image.label} for image in images]
        self.trace.event(
            "vlm_ask", question=question, answer=answer, duration_s=result.duration_s, images=stored
        )
        return answer

    def _validate(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        checked = validate_payload(payload, self.request.answer_type, self.request.choices)
        self.trace.event("answer", payload=checked)
        return checked

    def _fail(self, message: str) -> None:
        self.failures += 1
        if self.failures >= self.settings.max_failures:
            raise _StopError(ErrorCode.AGENT_FAILED, message)

    def _add_turn(self, turn: Turn) -> None:
        self.conversation.add(turn)
        stored = [{"path": self.trace.image(image), "label": image.label} for image in turn.images]
        self.trace.event("message", role=turn.role, turn=turn.kind, text=turn.text, images=stored)

    def _count_tokens(self, role: str, result: ChatResult) -> None:
        counts = self.tokens.setdefault(role, [0, 0, 0])
        counts[0] += result.prompt_tokens
        counts[1] += result.completion_tokens
        counts[2] += 1

    @contextlib.contextmanager
    def _stage(self, stage: str) -> Iterator[None]:
        """Add the block's wall time (s) to ``stage``, less the trace writes inside it (stage ``trace``)."""
        started, written_s = time.monotonic(), self.trace.write_s
        try:
            yield
        finally:
            seconds = time.monotonic() - started - (self.trace.write_s - written_s)
            self.stage_s[stage] = self.stage_s.get(stage, 0.0) + seconds

    def _stage_totals(self) -> dict[str, float]:
        """Seconds spent so far per stage, trace writes included as ``trace``."""
        totals = {**self.stage_s, "trace": self.trace.write_s}
        return {stage: round(seconds, 5) for stage, seconds in totals.items()}

    def _remaining(self, deadline: float) -> float:
        return max(0.1, deadline - time.monotonic())

    def _progress(self, stage: str, summary: str) -> None:
        if self.progress_callback is None:
            return
        update = Progress(
            stage, self.steps, self.settings.max_steps, summary, time.monotonic() - self.started
        )
        try:
            self.progress_callback(update)
        except Exception:
            LOG.exception("the progress callback failed")


def _key_frame_indices(frames: Sequence[Any], count: int) -> list[int]:
    """Up to ``count`` frame indices spread over each camera's time span (the latest frame included)."""
    if count <= 0:
        return []
    by_camera: dict[str, list[int]] = {}
    for index, frame in enumerate(frames):
        by_camera.setdefault(str(frame.camera), []).append(index)
    cameras = list(by_camera)
    chosen: list[int] = []
    for rank, camera in enumerate(cameras):
        share = count // len(cameras) + (1 if rank < count % len(cameras) else 0)
        indices = by_camera[camera]
        if share <= 0:
            continue
        if share >= len(indices):
            chosen.extend(indices)
            continue
        positions = np.linspace(0, len(indices) - 1, share).round().astype(int)
        chosen.extend(indices[p] for p in sorted(set(positions.tolist())))
    return sorted(chosen)


def _frame_overview(frames: Any, t0: float) -> str:
    lines = []
    for camera in frames.cameras:
        own = list(frames.by_camera(camera))
        first, last = own[0], own[-1]
        height, width = np.shape(first.image)[:2]
        has_depth = any(frame.depth is not None for frame in own)
        has_pose = all(frame.T_world_camera is not None for frame in own)
        lines.append(
            f"- {camera}: {len(own)} frames, {width}×{height} px, "
            f"t = +{float(first.stamp) - t0:.2f} … +{float(last.stamp) - t0:.2f} s, "
            f"depth camera: {'yes' if has_depth else 'no'}, "
            f"poses: {'yes' if has_pose else 'no'}, optical frame '{first.frame_id}'"
        )
    return "\n".join(lines)
