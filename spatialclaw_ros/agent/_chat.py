"""One model call of the query's conversation: shrink it to fit the context, ask, record, count tokens."""

from __future__ import annotations

from spatialclaw_ros.agent._chat_model import ChatModel, ChatResult, ContextOverflowError
from spatialclaw_ros.agent._conversation import Turn
from spatialclaw_ros.agent._failure import QueryError
from spatialclaw_ros.agent._query import Query
from spatialclaw_ros.agent._types import ErrorCode

#: Share of the context window kept free of the estimate, for the estimate's error.
CONTEXT_MARGIN = 0.05
#: Calls tried, each on a smaller budget, while the server says the prompt is too long.
FIT_ATTEMPTS = 4
#: The budget's share kept after each context overflow.
OVERFLOW_SHRINK = 0.85


async def chat(
    query: Query, model: ChatModel, role: str, deadline: float, extra: list[Turn] | None = None
) -> ChatResult:
    """Ask ``model`` for the next reply of ``role`` to the conversation plus ``extra`` (not stored).

    ``deadline`` is a ``time.monotonic()`` second. The conversation shrinks (``Conversation.fit``) to
    the role's share of the context; when the server still finds it too long, it shrinks further.

    Raises:
        QueryError: ``AGENT_FAILED`` when it never fits.
        ModelUnavailableError, RequestRejectedError, DeadlineError: from the model.
    """
    llm = query.llm
    conversation = query.conversation
    budget = int(llm.context_tokens * (1 - CONTEXT_MARGIN)) - llm.role(role).max_tokens
    budget = max(budget, llm.context_tokens // 2)
    for _attempt in range(FIT_ATTEMPTS):
        with query.stages.measure("request"):
            fitted = conversation.fit(budget, extra)
            estimate = conversation.estimate(extra)
            messages = conversation.messages(extra)
        query.trace.event(
            "llm_request",
            role=role,
            estimate=estimate,
            budget=budget,
            fitted=fitted,
            messages=len(conversation.turns) + len(extra or []),
            dropped_images=conversation.dropped_images,
            compressed_turns=conversation.compressed_turns,
            dropped_steps=conversation.dropped_turns,
            stage_s=query.stages.totals(),
        )
        if query.first_request_s is None:
            query.first_request_s = query.budget.elapsed_s()
        try:
            with query.stages.measure(f"llm_{role}"):
                result = await model.chat(role, messages, estimate, deadline)
        except ContextOverflowError as error:
            query.trace.event("context_overflow", role=role, message=str(error))
            if error.prompt_tokens:
                conversation.calibrate(estimate, error.prompt_tokens)
            budget = int(budget * OVERFLOW_SHRINK)
            continue
        if result.usage_reported:
            conversation.calibrate(estimate, result.prompt_tokens)
        query.tokens.add(role, result)
        query.trace.event(
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
    raise QueryError(
        ErrorCode.AGENT_FAILED, "the conversation does not fit the model's context even after shrinking"
    )
