"""A scripted ``ChatModel`` for tests: each call takes the next reply of a script; every call is recorded.

A reply is the assistant's text, an exception to raise (``ModelUnavailableError``,
``ContextOverflowError``, ...), or :data:`STALL`: a reply that never comes, so that the call ends as
the real client's does at the query's deadline (``DeadlineError``), or when the query is cancelled.
A call past the end of the script fails the test's query with an ``AssertionError`` naming the call.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from spatialclaw_ros.agent import ChatResult, DeadlineError, ModelHealth


class _Stall:
    def __repr__(self) -> str:
        return "STALL"


STALL = _Stall()
Reply = str | BaseException | _Stall


@dataclass(frozen=True)
class ChatCall:
    """One call as the model received it: role, decoded messages, deadline (``time.monotonic()`` s)."""

    role: str
    messages: list[dict[str, Any]]
    deadline: float | None

    def text(self, index: int = -1) -> str:
        """The text parts of one message (default: the last), joined."""
        content = self.messages[index]["content"]
        if isinstance(content, str):
            return content
        return "\n".join(part["text"] for part in content if part.get("type") == "text")


class ScriptedChatModel:
    """Answers from ``replies`` in order; :attr:`calls` records every call, :attr:`roles` their roles."""

    def __init__(self, replies: Iterable[Reply], model: str = "scripted-chat") -> None:
        self._replies = list(replies)
        self._model = model
        self.calls: list[ChatCall] = []
        self.closed = False

    @property
    def model(self) -> str:
        return self._model

    @property
    def roles(self) -> list[str]:
        return [call.role for call in self.calls]

    async def chat(
        self,
        role: str,
        messages: Sequence[bytes],
        prompt_tokens_estimate: int,
        deadline: float | None = None,
    ) -> ChatResult:
        self.calls.append(ChatCall(role, [json.loads(message) for message in messages], deadline))
        if not self._replies:
            raise AssertionError(f"the script has no reply for call {len(self.calls)} (role {role})")
        reply = self._replies.pop(0)
        if isinstance(reply, _Stall):
            if deadline is None:
                await asyncio.Event().wait()  # never set: only a cancel ends the call
            else:
                await asyncio.sleep(max(0.0, deadline - time.monotonic()))
            raise DeadlineError("the scripted model stalled past the deadline")
        if isinstance(reply, BaseException):
            raise reply
        return ChatResult(
            text=reply,
            prompt_tokens=prompt_tokens_estimate,
            completion_tokens=max(1, len(reply) // 4),
            finish_reason="stop",
            duration_s=0.0,
            attempts=1,
            usage_reported=False,
        )

    async def health(self, timeout_s: float = 5.0) -> ModelHealth:
        return ModelHealth(True, self._model, (self._model,), "ok")

    async def close(self) -> None:
        self.closed = True


def cell(code: str, reasoning: str = "") -> str:
    """A reply holding one Python cell."""
    return f"{reasoning}\n```python\n{code}\n```"
