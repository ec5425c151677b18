"""One query as a small state machine over two seams: an ``Executor`` (the kernel), a ``ChatModel`` (the VLM).

The transitions (FINAL's exits are decided in ``_final``); the modules it calls do each state's work::

    PREPARE  -> RUN_CODE                a code query: the request's cell, no model
             -> PLAN                    planning on
             -> STEP
    PLAN     -> STEP
    STEP     -> OBSERVE                 the reply held one cell, and it ran
             -> STEP                    no usable cell: feedback to the model, one failure counted
             -> FAILED(AGENT_FAILED)    ... and that failure spent the failure budget
             -> FINAL(AGENT_FAILED)     the step budget is spent
             -> FINAL(TIMEOUT)          the step deadline passed, before or during the call
    OBSERVE  -> ANSWERED                the cell returned a valid answer
             -> STEP                    anything else becomes the next observation (an invalid answer
                                        counts as a failure; a kernel that lost its state is set up again)
             -> FAILED(AGENT_FAILED)    an invalid answer spent the failure budget
    FINAL    -> ANSWERED | FAILED(why)  one answer-only call and cell (``_final``)
    RUN_CODE -> ANSWERED | FAILED
    any      -> FAILED                  when its work raises: CANCELED (the cancel token), TIMEOUT (the
                                        deadline), MODEL_UNAVAILABLE, SANDBOX_ERROR, NO_DATA (the snapshot),
                                        AGENT_FAILED (a request the model server refused; anything
                                        else, logged)

ANSWERED and FAILED end the query; the states themselves are in ``_states``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from spatialclaw_ros.agent import _prompts
from spatialclaw_ros.agent._ask_bridge import AskBridge
from spatialclaw_ros.agent._bootstrap import Bootstrap
from spatialclaw_ros.agent._cells import CellRunner, RanCell
from spatialclaw_ros.agent._chat import chat
from spatialclaw_ros.agent._chat_model import ChatModel, DeadlineError
from spatialclaw_ros.agent._conversation import Turn
from spatialclaw_ros.agent._executor import Executor
from spatialclaw_ros.agent._failure import failure_of
from spatialclaw_ros.agent._final import final_answer
from spatialclaw_ros.agent._observe import error_summary
from spatialclaw_ros.agent._parse import ParsedReply, parse_reply
from spatialclaw_ros.agent._perception_relay import PerceptionRelay
from spatialclaw_ros.agent._query import Query
from spatialclaw_ros.agent._states import (
    Answered,
    Ended,
    Failed,
    Final,
    Observe,
    Plan,
    Prepare,
    RunCode,
    State,
    Step,
)
from spatialclaw_ros.agent._task import read_snapshot, task_turn
from spatialclaw_ros.agent._types import CancelToken, ErrorCode
from spatialclaw_ros.agent._vlm_service import AskServer
from spatialclaw_ros.runtime.answer import AnswerError

LOG = logging.getLogger("spatialclaw_ros.agent")


class Machine:
    """Runs one query from :class:`Prepare` to :class:`Answered` or :class:`Failed`."""

    def __init__(
        self,
        query: Query,
        executor: Executor,
        model: ChatModel,
        system_prompt: str,
        cancel: CancelToken,
    ) -> None:
        """Drive ``query`` with cells in ``executor`` and replies of ``model``; ``cancel`` may end it."""
        self.query = query
        self.executor = executor
        self.model = model
        self.system_prompt = system_prompt
        self.cancel = cancel
        self.bootstrap = Bootstrap(query, executor)
        self.cells = CellRunner(query, executor, self.bootstrap, cancel)
        self.ask = AskBridge(query, model)
        self._ask_server: AskServer | None = None
        self._relay: PerceptionRelay | None = None

    async def run(self) -> Ended:
        """Go from state to state until the query ended; never raises (a cancel ends it as CANCELED)."""
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        assert task is not None

        def on_cancel() -> None:
            loop.call_soon_threadsafe(task.cancel)
            self.executor.interrupt()

        unsubscribe = self.cancel.subscribe(on_cancel)
        self._record_start()
        state: State = Prepare()
        try:
            while not isinstance(state, (Answered, Failed)):
                state = await self._next(state)
                # The token is the truth: a cancel whose task.cancel() asyncio swallowed (wait_for on
                # Python 3.11 returns a result that came at the same moment) still ends the query.
                if self.cancel.cancelled and not isinstance(state, Failed):
                    state = Failed(ErrorCode.CANCELED, "the query was canceled")
        finally:
            unsubscribe()
            self.bootstrap.stop()
            # A cancel landing here must not escape: the outcome still has to be made.
            for service in (self._ask_server, self._relay):
                if service is not None:
                    with contextlib.suppress(asyncio.CancelledError):
                        await asyncio.shield(service.close())
        return state

    async def _next(self, state: State) -> State:
        """The state after ``state``: its handler's choice, or :class:`Failed` when the handler raised."""
        try:
            match state:
                case Prepare():
                    return await self._prepare()
                case RunCode():
                    return await self._run_code()
                case Plan():
                    return await self._plan()
                case Step():
                    return await self._step()
                case Observe(cell=cell):
                    return await self._observe(cell)
                case Final(why=why):
                    return await final_answer(self.query, self.model, self.cells, why)
            raise TypeError(f"{state!r} has no handler")
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and hasattr(task, "uncancel"):  # Task.uncancel is new in Python 3.11
                task.uncancel()
            return Failed(ErrorCode.CANCELED, "the query was canceled")
        except Exception as error:
            query = self.query
            return Failed(*failure_of(error, query.budget.timeout_s, query.request.query_id))

    async def _prepare(self) -> State:
        query = self.query
        frames = read_snapshot(query, self.executor)
        self._ask_server = await self.ask.open(self.executor)
        self._relay = await self._open_relay()
        self.bootstrap.start()
        if query.request.code:
            return RunCode()
        with query.stages.measure("prompt"):
            query.add_turn(Turn("system", "system", self.system_prompt))
        task = task_turn(query, frames)
        with query.stages.measure("prompt"):
            query.add_turn(task)
        return Plan() if query.settings.planning else Step()

    async def _open_relay(self) -> PerceptionRelay | None:
        """The kernel's perception socket, relayed to the service; None (traced) when there is none."""
        query, upstream = self.query, self.query.settings.perception
        if upstream is None:
            return None
        relay = PerceptionRelay(self.executor.services_dir, upstream)
        try:
            with query.stages.measure("perception_relay"):
                await relay.start()
                self.executor.share_socket(relay.path)
        except (OSError, ValueError) as error:
            LOG.error("perception is unreachable for this query: %s", error)
            query.trace.event("error", stage="perception_relay", message=f"perception socket: {error}")
            await relay.close()
            return None
        return relay

    async def _run_code(self) -> State:
        query = self.query
        query.progress("step", "running the request's code")
        query.budget.steps = 1
        cell = await self.cells.run(query.request.code, "request", query.budget.deadline)
        result, report = cell.result, cell.report
        if report.answer is not None:
            try:
                return Answered(query.validate_answer(report.answer), final=False)
            except AnswerError as error:
                return Failed(ErrorCode.AGENT_FAILED, f"the code's answer is invalid: {error}")
        if result.status == "timeout":
            return Failed(ErrorCode.TIMEOUT, "the code ran past the query's time budget")
        if result.status != "ok":
            detail = error_summary(result) or result.status
            return Failed(ErrorCode.AGENT_FAILED, f"the code failed: {detail}")
        return Failed(ErrorCode.AGENT_FAILED, "the code did not call ReturnAnswer(...)")

    async def _plan(self) -> State:
        query = self.query
        query.progress("planning", "asking the model for a plan")
        plan_request = Turn("user", "plan", _prompts.render("plan"))
        reply = await chat(query, self.model, "plan", query.budget.step_deadline, [plan_request])
        plan = parse_reply(reply.text).reasoning or reply.text.strip()
        query.add_turn(plan_request)
        query.add_turn(Turn("assistant", "plan", plan or "(no plan)"))
        query.add_turn(Turn("user", "begin", _prompts.render("begin")))
        return Step()

    async def _step(self) -> State:
        query, budget = self.query, self.query.budget
        if budget.steps_spent:
            return Final(ErrorCode.AGENT_FAILED)
        if budget.step_time_spent():
            return Final(ErrorCode.TIMEOUT)
        query.progress("step", "waiting for the model's next cell")
        try:
            reply = await chat(query, self.model, "step", budget.step_deadline)
        except DeadlineError:
            return Final(ErrorCode.TIMEOUT)
        with query.stages.measure("reply"):
            parsed = parse_reply(reply.text)
            query.add_turn(Turn("assistant", "cell", _reply_as_shown(parsed)))
        if parsed.code is None:
            query.trace.event("parse_error", error=parsed.error, reply=reply.text)
            if budget.count_failure():
                message = f"the model's replies had no usable cell {budget.failures} times"
                return Failed(ErrorCode.AGENT_FAILED, message)
            query.add_turn(Turn("user", "feedback", _prompts.render(parsed.error or "no_code")))
            return Step()
        budget.steps += 1
        query.progress("step", f"running cell {budget.steps}")
        cell = await self.cells.run(parsed.code, "model", budget.step_deadline, query.settings.cell_timeout_s)
        return Observe(cell)

    async def _observe(self, cell: RanCell) -> State:
        query, budget = self.query, self.query.budget
        result, report = cell.result, cell.report
        notes: list[str] = []
        invalid_answer: str | None = None
        if report.answer is not None:
            try:
                return Answered(query.validate_answer(report.answer), final=False)
            except AnswerError as error:
                invalid_answer = str(error)
                notes.append(_prompts.render("invalid_answer", reason=invalid_answer))
        elif result.error is not None and result.error.ename == AnswerError.__name__:
            invalid_answer = result.error.evalue
        if invalid_answer is not None:
            query.trace.event("invalid_answer", reason=invalid_answer)
            if budget.count_failure():
                message = f"invalid answers and unusable replies reached {budget.failures}"
                return Failed(ErrorCode.AGENT_FAILED, message)
        if result.state_lost:
            await self.bootstrap.reload()
            notes.append(_prompts.render("restarted"))
        if budget.steps == budget.max_steps - 1:
            notes.append(_prompts.render("last_step"))
        with query.stages.measure("observation"):
            query.add_turn(self.cells.observation(cell, notes))
        return Step()

    def _record_start(self) -> None:
        query = self.query
        request = query.request
        query.trace.event(
            "query",
            question=request.question,
            answer_type=request.answer_type,
            choices=list(request.choices),
            target_frame=request.target_frame,
            code=request.code,
            timeout_s=query.budget.timeout_s,
            model=self.model.model or query.llm.model,
            base_url=query.llm.base_url,
        )


def _reply_as_shown(parsed: ParsedReply) -> str:
    """The reply as the conversation keeps it: the reasoning, then the one cell fenced again."""
    if parsed.code is None:
        return parsed.reasoning.strip() or "(empty reply)"
    return f"{parsed.reasoning}\n\n```python\n{parsed.code}\n```".strip()
