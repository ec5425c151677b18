"""The query's state machine, transition by transition, over a scripted ChatModel and a scripted Executor.

Each test names the transitions it proves (see spatialclaw_ros/agent/_machine.py for the table).
No process starts: the executor answers cells in-process, the model from a list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from agent.conftest import write_scene
from agent.scripted_chat import STALL, ScriptedChatModel, cell
from unit.agent.scripted_executor import (
    Blocks,
    ScriptedExecutor,
    answered,
    killed,
    printed,
    raised,
    ready,
    result,
)

from spatialclaw_ros.agent import (
    Agent,
    AgentSettings,
    CancelToken,
    ContextOverflowError,
    ErrorCode,
    LLMSettings,
    ModelUnavailableError,
    Progress,
    QueryOutcome,
    QueryRequest,
    RequestRejectedError,
)
from spatialclaw_ros.agent._prompts import render


@dataclass
class Run:
    """What one query did: its outcome, the model's calls, the executor's cells, the progress reports."""

    outcome: QueryOutcome
    model: ScriptedChatModel
    executor: ScriptedExecutor
    progress: list[Progress] = field(default_factory=list)

    @property
    def stages(self) -> list[str]:
        return [update.stage for update in self.progress]


@pytest.fixture
def query(tmp_path: Path) -> Iterator[Callable[..., Run]]:
    agents: list[Agent] = []

    def run(
        replies,
        cells=(),
        request: QueryRequest | None = None,
        *,
        bootstraps=(),
        snapshot: bool = True,
        on_progress: Callable[[Progress], None] | None = None,
        cancel: CancelToken | None = None,
        **settings,
    ) -> Run:
        model = ScriptedChatModel(replies)
        executor = ScriptedExecutor(tmp_path, cells, bootstraps)
        if snapshot:
            write_scene(executor.snapshot_dir)
        options = {"planning": False, "max_steps": 6, "timeout_s": 30.0, "cell_timeout_s": 10.0, **settings}
        agent = Agent(LLMSettings(), AgentSettings(**options), chat_model=model)
        agents.append(agent)
        seen: list[Progress] = []

        def report(update: Progress) -> None:
            seen.append(update)
            if on_progress is not None:
                on_progress(update)

        outcome = agent.run(request or QueryRequest("How far is the wall?"), executor, report, cancel)
        return Run(outcome, model, executor, seen)

    yield run
    for agent in agents:
        agent.close()


def test_code_query_runs_its_cell_without_the_model(query):
    """PREPARE -> RUN_CODE -> ANSWERED."""
    run = query([], [answered(True)], QueryRequest("far?", answer_type="boolean", code="ReturnAnswer(True)"))
    assert run.outcome.error_code == ErrorCode.NONE and run.outcome.answer == "true"
    assert run.model.calls == [] and run.executor.cells == ["ReturnAnswer(True)"] and run.outcome.steps == 1


def test_code_query_without_an_answer_fails(query):
    """PREPARE -> RUN_CODE -> FAILED(AGENT_FAILED)."""
    run = query([], [printed("x")], QueryRequest("q", code="print('x')"))
    assert run.outcome.error_code == ErrorCode.AGENT_FAILED
    assert run.outcome.error_message == "the code did not call ReturnAnswer(...)"


def test_plan_then_one_step_answers(query):
    """PREPARE -> PLAN -> STEP -> OBSERVE -> ANSWERED."""
    run = query(["1. measure the wall", cell("ReturnAnswer(2.0)")], [answered(2.0)], planning=True)
    assert run.outcome.error_code == ErrorCode.NONE and run.outcome.answer == "2.0"
    assert run.model.roles == ["plan", "step"] and run.outcome.steps == 1
    assert run.stages == ["planning", "step", "step", "done"]
    assert run.model.calls[1].text() == render("begin")


def test_reply_without_a_cell_is_fed_back_and_asked_again(query):
    """STEP -> STEP (feedback, one failure counted) -> OBSERVE -> ANSWERED."""
    run = query(["I would measure it.", cell("ReturnAnswer('2 m')")], [answered("2 m")])
    assert run.outcome.error_code == ErrorCode.NONE and run.outcome.steps == 1
    assert run.model.calls[1].text() == render("no_code")


def test_replies_without_a_cell_spend_the_failure_budget(query):
    """STEP -> STEP -> FAILED(AGENT_FAILED): the second unusable reply reaches max_failures."""
    run = query(["no cell", "still none"], max_failures=2)
    assert run.outcome.error_code == ErrorCode.AGENT_FAILED
    assert run.outcome.error_message == "the model's replies had no usable cell 2 times"
    assert run.executor.cells == [] and run.outcome.steps == 0


def test_cell_without_an_answer_is_observed_and_stepped_on(query):
    """STEP -> OBSERVE -> STEP -> OBSERVE -> ANSWERED; the observation shows the cell's output."""
    run = query([cell("print(7)"), cell("ReturnAnswer(7)")], [printed("7\n"), answered(7)])
    assert run.outcome.answer == "7" and run.outcome.steps == 2
    assert "stdout:\n7" in run.model.calls[1].text()


def test_invalid_answer_is_shown_to_the_model_then_a_valid_one_ends(query):
    """OBSERVE (invalid answer: one failure) -> STEP -> OBSERVE -> ANSWERED."""
    replies = [cell("ReturnAnswer('far')"), cell("ReturnAnswer(2.0)")]
    run = query(replies, [answered("far"), answered(2.0)], QueryRequest("How far?", answer_type="number"))
    assert run.outcome.error_code == ErrorCode.NONE and run.outcome.answer == "2.0"
    assert "ReturnAnswer was not accepted: answer_type is 'number'" in run.model.calls[1].text()


def test_invalid_answer_counts_as_a_failure(query):
    """OBSERVE (invalid answer) -> FAILED(AGENT_FAILED) when it spends the failure budget."""
    request = QueryRequest("How far?", answer_type="number")
    run = query([cell("ReturnAnswer('far')")], [answered("far")], request, max_failures=1)
    assert run.outcome.error_code == ErrorCode.AGENT_FAILED
    assert run.outcome.error_message == "invalid answers and unusable replies reached 1"


def test_answer_error_raised_in_the_cell_counts_as_a_failure(query):
    """OBSERVE (the cell raised AnswerError) -> FAILED(AGENT_FAILED) when it spends the failure budget."""
    run = query([cell("ReturnAnswer(None)")], [raised("AnswerError", "no answer")], max_failures=1)
    assert run.outcome.error_code == ErrorCode.AGENT_FAILED and run.outcome.steps == 1
    assert run.outcome.error_message == "invalid answers and unusable replies reached 1"


def test_step_budget_spent_goes_to_the_final_answer(query):
    """STEP -> OBSERVE -> STEP -> OBSERVE -> STEP -> FINAL(AGENT_FAILED) -> ANSWERED (final fallback)."""
    replies = [cell("x = 1"), cell("y = 2"), cell("ReturnAnswer(3)")]
    run = query(replies, [printed(""), printed(""), answered(3)], max_steps=2)
    assert run.outcome.error_code == ErrorCode.NONE and run.outcome.final_fallback
    assert run.model.roles == ["step", "step", "final"] and run.outcome.steps == 3
    assert render("last_step") in run.model.calls[1].text()
    assert run.model.calls[2].text().startswith("The step budget is spent.")
    assert run.stages[-2:] == ["final", "done"]


def test_step_budget_spent_without_the_final_answer_fails(query):
    """STEP -> FINAL(AGENT_FAILED) -> FAILED(AGENT_FAILED) when final_answer is off."""
    run = query([cell("x = 1")], [printed("")], max_steps=1, final_answer=False)
    assert run.outcome.error_code == ErrorCode.AGENT_FAILED
    assert run.outcome.error_message == "the query used all its steps without an answer"


def test_final_reply_without_a_cell_fails_with_the_spent_budget(query):
    """FINAL(AGENT_FAILED) -> FAILED(AGENT_FAILED): the answer-only reply had no cell."""
    run = query([cell("x = 1"), "I cannot tell."], [printed("")], max_steps=1)
    assert run.outcome.error_code == ErrorCode.AGENT_FAILED and not run.outcome.final_fallback
    assert run.outcome.error_message.endswith("used all its steps; the final answer-only reply had no cell")


def test_model_stalling_past_the_step_deadline_goes_to_the_final_answer(query):
    """STEP (DeadlineError) -> FINAL(TIMEOUT) -> ANSWERED: the final call gets the reserve after it."""
    request = QueryRequest("How far?", timeout_s=1.0)
    replies = [STALL, cell("ReturnAnswer('unknown')")]
    run = query(replies, [answered("unknown")], request, final_reserve_s=0.25)
    assert run.outcome.error_code == ErrorCode.NONE and run.outcome.final_fallback
    step, final = run.model.calls
    assert (step.role, final.role) == ("step", "final")
    assert final.deadline == pytest.approx(step.deadline + 0.25)
    assert final.text().startswith("The time budget is nearly spent.")


def test_model_stalling_through_the_final_call_times_out(query):
    """STEP -> FINAL(TIMEOUT) -> FAILED(TIMEOUT): no time was left for the answer-only call."""
    request = QueryRequest("How far?", timeout_s=1.0)
    run = query([STALL, STALL], [], request, final_reserve_s=0.25)
    assert run.outcome.error_code == ErrorCode.TIMEOUT
    assert run.outcome.error_message.endswith("ran past its time budget; no time was left for a final answer")


def test_cancel_while_a_cell_runs_fails_with_canceled(query):
    """STEP (the cell runs) -> FAILED(CANCELED); the executor is interrupted."""
    cancel = CancelToken()
    run = query([cell("import time; time.sleep(30)")], [Blocks(on_start=cancel.cancel)], cancel=cancel)
    assert run.outcome.error_code == ErrorCode.CANCELED
    assert run.outcome.error_message == "the query was canceled"
    assert len(run.executor.cells) == 1 and run.executor.interrupts == 1 and run.stages[-1] == "done"


def test_cancel_as_the_cell_starts_fails_with_canceled_and_runs_no_cell(query):
    """STEP ("running cell" reported, the cell not started yet) -> FAILED(CANCELED).

    The interrupt sent with the cancel reaches no running cell (the executor drops it, as the kernel
    does); the query still ends CANCELED at once, without running the cell.
    """
    cancel = CancelToken()

    def cancel_as_the_cell_starts(update: Progress) -> None:
        if update.summary.startswith("running cell"):
            cancel.cancel()

    run = query(
        [cell("import time; time.sleep(30)")],
        [Blocks()],
        on_progress=cancel_as_the_cell_starts,
        cancel=cancel,
    )
    assert run.outcome.error_code == ErrorCode.CANCELED and run.executor.cells == []
    assert run.outcome.elapsed_s < 5.0


def test_cancel_while_waiting_for_the_model_fails_with_canceled(query):
    """STEP (the model call) -> FAILED(CANCELED)."""
    cancel = CancelToken()

    def cancel_when_waiting(update: Progress) -> None:
        if update.summary == "waiting for the model's next cell":
            cancel.cancel()

    run = query([STALL], on_progress=cancel_when_waiting, cancel=cancel)
    assert run.outcome.error_code == ErrorCode.CANCELED and run.executor.cells == []


def test_model_unavailable_fails_the_query(query):
    """STEP -> FAILED(MODEL_UNAVAILABLE)."""
    run = query([ModelUnavailableError("the endpoint is down")])
    assert run.outcome.error_code == ErrorCode.MODEL_UNAVAILABLE
    assert run.outcome.error_message == "the endpoint is down"


def test_request_the_model_server_refused_fails_the_query(query):
    """STEP -> FAILED(AGENT_FAILED): the server is up, it refused what the request holds."""
    run = query([RequestRejectedError("the model server refused the request: HTTP 400: bad part")])
    assert run.outcome.error_code == ErrorCode.AGENT_FAILED
    assert run.outcome.error_message == "the model server refused the request: HTTP 400: bad part"


def test_conversation_that_never_fits_fails(query):
    """STEP (context overflow on every shrink) -> FAILED(AGENT_FAILED)."""
    run = query([ContextOverflowError("too long")] * 4)
    assert run.outcome.error_code == ErrorCode.AGENT_FAILED and len(run.model.calls) == 4
    assert "does not fit the model's context" in run.outcome.error_message


def test_kernel_that_lost_its_state_is_set_up_again_and_the_model_told(query):
    """OBSERVE (state lost: the namespace is loaded again) -> STEP -> OBSERVE -> ANSWERED."""
    run = query([cell("boom()"), cell("ReturnAnswer(3)")], [killed(), answered(3)])
    assert run.outcome.error_code == ErrorCode.NONE and run.executor.bootstrap_runs == 2
    assert render("restarted") in run.model.calls[1].text()


def test_kernel_that_cannot_be_set_up_again_is_a_sandbox_error(query):
    """OBSERVE (state lost, the namespace fails to load again) -> FAILED(SANDBOX_ERROR)."""
    failed_setup = result("error", error=("ImportError", "no runtime"))
    run = query([cell("boom()")], [killed()], bootstraps=[ready(), failed_setup])
    assert run.outcome.error_code == ErrorCode.SANDBOX_ERROR


def test_namespace_that_does_not_load_is_a_sandbox_error(query):
    """PREPARE -> STEP -> FAILED(SANDBOX_ERROR): the first cell waits for a namespace that failed."""
    run = query([cell("x = 1")], [], bootstraps=[result("error", error=("ImportError", "no runtime"))])
    assert run.outcome.error_code == ErrorCode.SANDBOX_ERROR and run.executor.cells == []
    assert "could not load the query's namespace" in run.outcome.error_message


def test_unreadable_snapshot_is_no_data(query):
    """PREPARE -> FAILED(NO_DATA); neither the model nor the kernel is asked anything."""
    run = query([], snapshot=False)
    assert run.outcome.error_code == ErrorCode.NO_DATA
    assert run.model.calls == [] and run.executor.bootstrap_runs == 0


def test_failure_after_an_unavailable_perception_backend_says_so(query):
    """OBSERVE (a PerceptionError) -> FAILED(AGENT_FAILED), reported as PERCEPTION_UNAVAILABLE."""
    perception_down = raised("PerceptionError", "PERCEPTION_UNAVAILABLE: sam3 is off")
    run = query([cell("tools.segment(frames[0], 'wall')"), "no cell"], [perception_down], max_failures=1)
    assert run.outcome.error_code == ErrorCode.PERCEPTION_UNAVAILABLE
    assert run.outcome.error_message.endswith("(a perception backend was unavailable)")
