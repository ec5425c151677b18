"""Async client for OpenAI-compatible chat endpoints: retries, per-call timeouts, clamped max_tokens, health.

vLLM first, any compatible server second. The API key is read from the environment variable named in
:class:`LLMSettings` when the client is built and goes only into the HTTP client.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import time
from dataclasses import dataclass
from typing import Any

import openai

from spatialclaw_ros.agent._settings import LLMSettings

LOG = logging.getLogger("spatialclaw_ros.agent")
MIN_COMPLETION_TOKENS = 128
MAX_BACKOFF_S = 8.0
_CONTEXT_ERROR = re.compile(r"context length|context window|maximum context|too many tokens|too long", re.I)
_PROMPT_TOKENS = re.compile(r"(\d+) (?:tokens )?in the messages|request has (\d+) input tokens", re.I)


class ModelUnavailableError(RuntimeError):
    """The endpoint could not be reached, kept failing, or refused the request (not for length)."""


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
    """One completion: its text, tokens (from the server, else estimated), time and attempts."""

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


class LLMClient:
    """Chat completions with retries and budgets; one instance per event loop."""

    def __init__(self, settings: LLMSettings) -> None:
        """Build the HTTP client; the key comes from ``os.environ[settings.api_key_env]`` (or none)."""
        self.settings = settings
        key = os.environ.get(settings.api_key_env, "") if settings.api_key_env else ""
        self._client = openai.AsyncOpenAI(
            base_url=settings.base_url, api_key=key or "none", max_retries=0, timeout=settings.timeout_s
        )
        self._model = settings.model

    @property
    def model(self) -> str:
        """The model in use ("" until resolved when the settings leave it empty)."""
        return self._model

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()

    async def health(self, timeout_s: float = 5.0) -> ModelHealth:
        """List the endpoint's models; resolve an empty model name to the first one listed."""
        try:
            page = await asyncio.wait_for(self._client.models.list(), timeout_s)
        except (openai.APIError, asyncio.TimeoutError, OSError) as error:
            message = f"{self.settings.base_url} did not answer: {_brief(error)}"
            return ModelHealth(False, self._model, (), message)
        available = tuple(model.id for model in page.data)
        if not self._model and available:
            self._model = available[0]
        if not available:
            return ModelHealth(False, self._model, available, "the endpoint lists no models")
        if self._model not in available:
            message = f"model {self._model!r} is not served; the endpoint lists {list(available)}"
            return ModelHealth(False, self._model, available, message)
        return ModelHealth(True, self._model, available, "ok")

    async def chat(
        self,
        role: str,
        messages: list[dict[str, Any]],
        prompt_tokens_estimate: int,
        deadline: float | None = None,
    ) -> ChatResult:
        """One chat completion for ``role`` (``plan``, ``step``, ``vlm_ask``, ``final``).

        ``max_tokens`` is the role's, clamped so that ``prompt_tokens_estimate + max_tokens`` fits
        ``context_tokens``. Retries 429, 5xx and connection errors with backoff; each attempt is
        bounded by ``timeout_s`` and by ``deadline`` (``time.monotonic()`` seconds).

        Raises:
            ContextOverflowError: the prompt leaves no room for a completion, or the server said so.
            ModelUnavailableError: the endpoint is unreachable, keeps failing, or refused the request.
            DeadlineError: ``deadline`` passed.
        """
        settings = self.settings.role(role)
        room = self.settings.context_tokens - prompt_tokens_estimate
        if room < MIN_COMPLETION_TOKENS:
            raise ContextOverflowError(
                f"the prompt (~{prompt_tokens_estimate} tokens) leaves {room} of "
                f"{self.settings.context_tokens} context tokens for the answer"
            )
        max_tokens = min(settings.max_tokens, room)
        if not self._model:
            health = await self.health(min(5.0, self.settings.timeout_s))
            if not self._model:
                raise ModelUnavailableError(health.message)
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            timeout_s = self._attempt_timeout(deadline)
            try:
                response = await asyncio.wait_for(
                    self._client.chat.completions.create(
                        model=self._model,
                        messages=messages,  # type: ignore[arg-type]
                        temperature=settings.temperature,
                        max_tokens=max_tokens,
                        timeout=timeout_s,
                    ),
                    timeout_s,
                )
            except openai.BadRequestError as error:
                text = _brief(error)
                if _CONTEXT_ERROR.search(text):
                    raise ContextOverflowError(text, _prompt_tokens_of(text)) from None
                raise ModelUnavailableError(f"the endpoint refused the request: {text}") from None
            except (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError) as error:
                raise ModelUnavailableError(f"the endpoint refused the request: {_brief(error)}") from None
            except (openai.APIConnectionError, openai.APIStatusError, asyncio.TimeoutError) as error:
                if deadline is not None and time.monotonic() >= deadline - 0.05:
                    raise DeadlineError("the query's time budget ran out during a model call") from None
                if not _retryable(error) or attempt > self.settings.retries:
                    raise ModelUnavailableError(
                        f"{self.settings.base_url} failed after {attempt} attempt(s): {_brief(error)}"
                    ) from None
                delay_s = self._backoff_s(attempt, deadline)
                LOG.warning("model call failed (%s); retry %d in %.2f s", _brief(error), attempt, delay_s)
                await asyncio.sleep(delay_s)
                continue
            return _result(response, prompt_tokens_estimate, time.monotonic() - started, attempt)

    def _attempt_timeout(self, deadline: float | None) -> float:
        timeout_s = self.settings.timeout_s
        if deadline is not None:
            remaining_s = deadline - time.monotonic()
            if remaining_s <= 0.05:
                raise DeadlineError("the query's time budget ran out before a model call")
            timeout_s = min(timeout_s, remaining_s)
        return timeout_s

    def _backoff_s(self, attempt: int, deadline: float | None) -> float:
        delay_s = min(MAX_BACKOFF_S, self.settings.backoff_s * 2 ** (attempt - 1))
        delay_s *= 0.75 + 0.5 * random.random()
        if deadline is not None:
            delay_s = min(delay_s, max(0.0, deadline - time.monotonic() - 0.1))
        return delay_s


def _result(response: Any, prompt_estimate: int, duration_s: float, attempts: int) -> ChatResult:
    choice = response.choices[0] if response.choices else None
    message = choice.message if choice is not None else None
    text = (message.content if message is not None else None) or ""
    reasoning = getattr(message, "reasoning_content", None) if message is not None else None
    if isinstance(reasoning, str) and reasoning and "<think>" not in text:
        text = f"<think>{reasoning}</think>\n{text}"
    usage = response.usage
    return ChatResult(
        text=text,
        prompt_tokens=usage.prompt_tokens if usage else prompt_estimate,
        completion_tokens=usage.completion_tokens if usage else len(text) // 3,
        finish_reason=(choice.finish_reason if choice is not None else None) or "",
        duration_s=duration_s,
        attempts=attempts,
        usage_reported=usage is not None,
    )


def _retryable(error: BaseException) -> bool:
    if isinstance(error, (openai.APIConnectionError, asyncio.TimeoutError)):
        return True
    if isinstance(error, openai.APIStatusError):
        return error.status_code == 429 or error.status_code >= 500
    return False


def _prompt_tokens_of(text: str) -> int | None:
    match = _PROMPT_TOKENS.search(text)
    if match:
        return int(next(group for group in match.groups() if group))
    return None


def _brief(error: BaseException) -> str:
    if isinstance(error, asyncio.TimeoutError):
        return "timed out"
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:500]
