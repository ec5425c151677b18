"""The answer-only fallback: when the step or time budget runs out, one call and one short cell may answer.

The model is told which budget ran out and gets one last cell that must call ``ReturnAnswer`` from
the evidence so far. Whatever goes wrong ends the query with the code of the spent budget.
"""

from __future__ import annotations

from spatialclaw_ros.agent import _prompts
from spatialclaw_ros.agent._cells import CellRunner
from spatialclaw_ros.agent._chat import chat
from spatialclaw_ros.agent._chat_model import ChatModel, DeadlineError
from spatialclaw_ros.agent._conversation import Turn
from spatialclaw_ros.agent._observe import error_summary
from spatialclaw_ros.agent._parse import parse_reply
from spatialclaw_ros.agent._query import Query
from spatialclaw_ros.agent._states import Answered, Ended, Failed
from spatialclaw_ros.agent._types import ErrorCode
from spatialclaw_ros.runtime.answer import AnswerError

#: Most seconds the answer-only cell may run.
FINAL_CELL_TIMEOUT_S = 20.0


async def final_answer(query: Query, model: ChatModel, cells: CellRunner, why: ErrorCode) -> Ended:
    """An answer from the evidence so far; ``why`` is the code of the spent budget (TIMEOUT, AGENT_FAILED)."""
    timed_out = why == ErrorCode.TIMEOUT
    reason = "The time budget is nearly spent." if timed_out else "The step budget is spent."
    failure = "ran past its time budget" if timed_out else "used all its steps"
    if not query.settings.final_answer:
        return Failed(why, f"the query {failure} without an answer")
    query.progress("final", "asking for a final answer from the evidence so far")
    prompt = Turn("user", "feedback", _prompts.render("final", reason=reason))
    try:
        reply = await chat(query, model, "final", query.budget.deadline, [prompt])
    except DeadlineError:
        return Failed(why, f"the query {failure}; no time was left for a final answer")
    query.add_turn(prompt)
    parsed = parse_reply(reply.text)
    query.add_turn(Turn("assistant", "cell", reply.text.strip() or "(empty reply)"))
    if parsed.code is None:
        return Failed(why, f"the query {failure}; the final answer-only reply had no cell")
    query.budget.steps += 1
    cell = await cells.run(parsed.code, "final", query.budget.deadline, FINAL_CELL_TIMEOUT_S)
    if cell.report.answer is None:
        detail = error_summary(cell.result) or "it did not call ReturnAnswer"
        return Failed(why, f"the query {failure}; the final answer-only cell failed: {detail}")
    try:
        payload = query.validate_answer(cell.report.answer)
    except AnswerError as error:
        return Failed(why, f"the query {failure}; the final answer was invalid: {error}")
    query.trace.event("answer", final_fallback=True, reason=reason)
    return Answered(payload, final=True)
