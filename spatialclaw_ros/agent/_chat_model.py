"""The seam to the VLM: the :class:`ChatModel` protocol, what one call returns, and how a call fails.

The loop needs three things of a model: one chat completion per role (``plan``, ``step``,
``vlm_ask``, ``final``) within the query's deadline, the tokens each call used, and a health check.
:class:`~spatialclaw_ros.agent._llm.LLMClient` is the real one (any OpenAI-compatible endpoint);
the tests script their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class ModelUnavailableError(RuntimeError):
    """The endpoint could not be reached, kept failing, or does not serve the model (or not to us)."""


class RequestRejectedError(RuntimeError):
    """The endpoint is up and serves the model, but refused this request (a 4xx such as 400, 413, 422).

    The request, not the model, is at fault; the message holds the server's own words.
    """


class ContextOverflowError(RuntimeError):
    """The prompt does not fit the model's context; ``prompt_tokens`` is the server's count when it said."""

    def __init__(self, message: str, prompt_tokens: int | None = None) -> None:
        """Keep the server's prompt token count, when its message gave one."""
        super().__init__(message)
        self.prompt_tokens = prompt_tokens


class DeadlineError(RuntimeError):
    """The query's time budget ran out before the call could finish."""


@dataclass(frozen=True)
class ChatResult:
    """One completion: its text, tokens (from the server, else estimated), time (s) and attempts."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    duration_s: float
    attempts: int
    usage_reported: bool


@dataclass(frozen=True)
class ModelHealth:
    """What the health check saw: ``ok`` when the endpoint answered and serves ``model``."""

    ok: bool
    model: str
    available: tuple[str, ...]
    message: str


class ChatModel(Protocol):
    """What the agent loop needs of a VLM; every coroutine runs on the agent's event loop."""

    @property
    def model(self) -> str:
        """The model's name ("" while not known yet)."""
        ...

    async def chat(
        self,
        role: str,
        messages: Sequence[bytes],
        prompt_tokens_estimate: int,
        deadline: float | None = None,
    ) -> ChatResult:
        """One chat completion for ``role`` from ``messages`` (each one chat message as JSON, UTF-8).

        ``deadline`` is a ``time.monotonic()`` second the call must not outlast.

        Raises:
            ContextOverflowError: the prompt does not fit the model's context.
            ModelUnavailableError: the model cannot answer.
            RequestRejectedError: the model refused this request for what it holds.
            DeadlineError: ``deadline`` passed.
        """
        ...

    async def health(self, timeout_s: float = 5.0) -> ModelHealth:
        """Whether the model can answer; never raises for network errors."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
