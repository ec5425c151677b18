"""Async client for OpenAI-compatible chat endpoints: retries, per-call timeouts, clamped max_tokens, health.

vLLM first, any compatible server second. Plain HTTP with the chat completions wire format, over
aiohttp (a round trip on this machine: ~0.6 ms, against ~1.7 ms for httpx and ~7 ms for the openai
package; a step of the agent makes one). Each message arrives already serialized (:meth:`Turn.message_json
<spatialclaw_ros.agent._conversation.Turn.message_json>` encodes a turn once per query), so a step's
request costs one join of bytes, not a walk over every key frame's base64 text. The API key is read
from the environment variable named in :class:`LLMSettings` when the client is built and goes only
into the ``Authorization`` header.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

import aiohttp

from spatialclaw_ros.agent._chat_model import (
    ChatResult,
    ContextOverflowError,
    DeadlineError,
    ModelHealth,
    ModelUnavailableError,
    RequestRejectedError,
)
from spatialclaw_ros.agent._settings import LLMSettings

LOG = logging.getLogger("spatialclaw_ros.agent")
MIN_COMPLETION_TOKENS = 128
MAX_BACKOFF_S = 8.0
#: The most characters of a server's error message that reach the answer, the logs and the trace.
SERVER_TEXT_MAX_CHARS = 400
_CONTEXT_ERROR = re.compile(
    r"context length|context window|context size|maximum context|too many tokens|too long", re.I
)
_PROMPT_TOKENS = re.compile(r"(\d+) (?:tokens )?in the messages|request has (\d+) input tokens", re.I)
#: Statuses worth another attempt: rate limits, timeouts and the server's own failures.
_RETRYABLE_STATUS = frozenset({408, 409, 429})
#: Statuses that say the endpoint will not serve the model to this client: not allowed, or not there.
_MODEL_REFUSED_STATUS = frozenset({401, 403, 404})
#: A 4xx message that says the model is absent (some servers answer an unknown model with a 400).
_MODEL_ABSENT = re.compile(
    r"model_not_found|\b(?:unknown|invalid|no such) model\b"
    r"|\bmodel\b[^.]{0,80}?\b(?:not found|does not exist|is not served)",
    re.I,
)


class _StatusError(Exception):
    """The endpoint answered with an error status; ``text`` is its message."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"HTTP {status}: {text}")
        self.status = status
        self.text = text


class LLMClient:
    """The real ``ChatModel``: chat completions with retries and budgets; one instance per event loop."""

    def __init__(self, settings: LLMSettings) -> None:
        """Build the HTTP client; the key comes from ``os.environ[settings.api_key_env]`` (or none)."""
        self.settings = settings
        key = os.environ.get(settings.api_key_env, "") if settings.api_key_env else ""
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if key:
            self._headers["Authorization"] = f"Bearer {key}"
        self._base_url = settings.base_url.rstrip("/")
        self._proxy = _environment_proxy(self._base_url)
        self._http: aiohttp.ClientSession | None = None
        self._model = settings.model

    @property
    def model(self) -> str:
        """The model in use ("" until resolved when the settings leave it empty)."""
        return self._model

    async def close(self) -> None:
        """Close the HTTP connections."""
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def health(self, timeout_s: float = 5.0) -> ModelHealth:
        """List the endpoint's models; resolve an empty model name to the first one listed."""
        try:
            listing = await asyncio.wait_for(self._send("GET", "models", None, timeout_s), timeout_s)
        except (aiohttp.ClientError, _StatusError, asyncio.TimeoutError, ValueError) as error:
            message = f"{self.settings.base_url} did not answer: {_brief(error)}"
            return ModelHealth(False, self._model, (), message)
        try:
            available = tuple(str(model["id"]) for model in listing["data"])
        except (LookupError, TypeError) as error:
            message = f"{self.settings.base_url} lists its models in a form not understood: {_brief(error)}"
            return ModelHealth(False, self._model, (), message)
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
        messages: Sequence[bytes],
        prompt_tokens_estimate: int,
        deadline: float | None = None,
    ) -> ChatResult:
        """One chat completion for ``role`` (``plan``, ``step``, ``vlm_ask``, ``final``).

        ``messages`` are chat messages, each serialized as JSON (UTF-8). ``max_tokens`` is the
        role's, clamped so that ``prompt_tokens_estimate + max_tokens`` fits ``context_tokens``.
        Retries 408, 409, 429, 5xx and connection errors with backoff; each attempt is bounded by
        ``timeout_s`` and by ``deadline`` (``time.monotonic()`` seconds).

        Raises:
            ContextOverflowError: the prompt leaves no room for a completion, or the server said so.
            ModelUnavailableError: the endpoint is unreachable, keeps failing (5xx), does not serve the
                model to this client (401, 403, 404, or a 4xx that says the model is absent), or
                answered with something that is not a chat completion.
            RequestRejectedError: any other 4xx (400, 413, 422, ...): the server refused this request.
            DeadlineError: ``deadline`` passed.

        Every message of a status error holds the server's own text, trimmed to
        ``SERVER_TEXT_MAX_CHARS``.
        """
        settings = self.settings.role(role)
        room = self.settings.context_tokens - prompt_tokens_estimate
        if room < MIN_COMPLETION_TOKENS:
            raise ContextOverflowError(
                f"the prompt (~{prompt_tokens_estimate} tokens) leaves {room} of "
                f"{self.settings.context_tokens} context tokens for the answer"
            )
        if not self._model:
            health = await self.health(min(5.0, self.settings.timeout_s))
            if not self._model:
                raise ModelUnavailableError(health.message)
        body = _request_body(self._model, messages, settings.temperature, min(settings.max_tokens, room))
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            timeout_s = self._attempt_timeout(deadline)
            try:
                response = await asyncio.wait_for(
                    self._send("POST", "chat/completions", body, timeout_s), timeout_s
                )
            except _StatusError as error:
                refusal = self._refusal(error)
                if refusal is not None:
                    raise refusal from None
                await self._before_retry(error, attempt, deadline)
                continue
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError) as error:
                await self._before_retry(error, attempt, deadline)
                continue
            except (aiohttp.ClientError, ValueError) as error:
                raise ModelUnavailableError(
                    f"{self.settings.base_url} answered with something that is not JSON: {_brief(error)}"
                ) from None
            try:
                return _result(response, prompt_tokens_estimate, time.monotonic() - started, attempt)
            except (KeyError, IndexError, TypeError, AttributeError) as error:
                raise ModelUnavailableError(
                    f"{self.settings.base_url} answered with something that is not a chat completion: "
                    f"{type(error).__name__}: {error}"
                ) from None

    async def _send(self, method: str, path: str, body: bytes | None, timeout_s: float) -> Any:
        """One HTTP exchange; the decoded JSON reply, or ``_StatusError`` for a status >= 400."""
        if self._http is None:  # made on first use: a session belongs to the loop that runs it
            self._http = aiohttp.ClientSession(headers=self._headers)
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        async with self._http.request(
            method, f"{self._base_url}/{path}", data=body, timeout=timeout, proxy=self._proxy
        ) as response:
            content = await response.read()
        if response.status >= 400:
            raise _StatusError(response.status, _error_text(content, response.reason or ""))
        return json.loads(content)

    def _refusal(self, error: _StatusError) -> Exception | None:
        """The error that a status ends the call with; ``None`` when another attempt is worth it."""
        if error.status == 400 and _CONTEXT_ERROR.search(error.text):
            return ContextOverflowError(error.text, _prompt_tokens_of(error.text))
        if error.status in _RETRYABLE_STATUS or error.status >= 500:
            return None
        if error.status in _MODEL_REFUSED_STATUS or _MODEL_ABSENT.search(error.text):
            return ModelUnavailableError(f"{self._base_url} refused the model {self._model!r}: {error}")
        return RequestRejectedError(f"the model server refused the request: {error}")

    async def _before_retry(self, error: BaseException, attempt: int, deadline: float | None) -> None:
        """Raise when no further attempt is allowed; else wait the backoff."""
        if deadline is not None and time.monotonic() >= deadline - 0.05:
            raise DeadlineError("the query's time budget ran out during a model call") from None
        if attempt > self.settings.retries:
            raise ModelUnavailableError(
                f"{self.settings.base_url} failed after {attempt} attempt(s): {_brief(error)}"
            ) from None
        delay_s = self._backoff_s(attempt, deadline)
        LOG.warning("model call failed (%s); retry %d in %.2f s", _brief(error), attempt, delay_s)
        await asyncio.sleep(delay_s)

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


def _environment_proxy(url: str) -> str | None:
    """The proxy that ``HTTP_PROXY``/``HTTPS_PROXY`` name for ``url``, unless ``NO_PROXY`` exempts its host.

    Read once per client: looking the environment up on every request costs ~0.8 ms.
    """
    parts = urllib.parse.urlsplit(url)
    if urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return urllib.request.getproxies().get(parts.scheme)


def _request_body(model: str, messages: Sequence[bytes], temperature: float, max_tokens: int) -> bytes:
    """The chat completions request, its messages joined as they are (already JSON)."""
    head = json.dumps({"model": model, "temperature": temperature, "max_tokens": max_tokens})
    return b"".join((head[:-1].encode(), b', "messages": [', b", ".join(messages), b"]}"))


def _result(response: Any, prompt_estimate: int, duration_s: float, attempts: int) -> ChatResult:
    choices = response["choices"]
    choice = choices[0] if choices else {}
    message = choice.get("message") or {}
    text = message.get("content") or ""
    if not isinstance(text, str):
        raise TypeError(f"the message content is {type(text).__name__}, not text")
    reasoning = message.get("reasoning_content")
    if isinstance(reasoning, str) and reasoning and "<think>" not in text:
        text = f"<think>{reasoning}</think>\n{text}"
    usage = response.get("usage")
    return ChatResult(
        text=text,
        prompt_tokens=int(usage["prompt_tokens"]) if usage else prompt_estimate,
        completion_tokens=int(usage["completion_tokens"]) if usage else len(text) // 3,
        finish_reason=choice.get("finish_reason") or "",
        duration_s=duration_s,
        attempts=attempts,
        usage_reported=bool(usage),
    )


def _error_text(content: bytes, reason: str) -> str:
    """The message of an error reply, trimmed to ``SERVER_TEXT_MAX_CHARS``.

    vLLM's ``{"message": …}``, OpenAI's (and llama-cpp-python's) ``{"error": {"message": …}}``,
    FastAPI's ``{"detail": …}``; else the body as text (a plain-text 500), else the HTTP reason.
    """
    text = content.decode("utf-8", "replace")
    try:
        payload = json.loads(content)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        error = payload.get("error")
        message = error.get("message") if isinstance(error, dict) else error
        message = message or payload.get("message") or payload.get("detail")
        if message:
            text = message if isinstance(message, str) else json.dumps(message, ensure_ascii=False)
    return _trimmed(text) or reason


def _trimmed(text: str) -> str:
    """``text`` on one line, cut to ``SERVER_TEXT_MAX_CHARS`` with a note of what was cut."""
    text = " ".join(text.split())
    if len(text) <= SERVER_TEXT_MAX_CHARS:
        return text
    return f"{text[:SERVER_TEXT_MAX_CHARS]}… ({len(text) - SERVER_TEXT_MAX_CHARS} more characters)"


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
