"""The agent: answers each query by the code-as-action loop, from any thread, on one event loop thread.

plan → [model writes a cell → kernel runs it → observation] × N → answer. :meth:`Agent.run`
answers one query in a kernel the caller acquired (and closes afterwards), blocking the calling
thread; several queries may run at once from different threads. Every failure ends as a
:class:`QueryOutcome` with an error code; nothing a model, a kernel or a server does raises out of
:meth:`Agent.run`. The loop itself is the state machine of ``_machine``.
"""

from __future__ import annotations

import asyncio
import threading

from spatialclaw_ros.agent._chat_model import ChatModel, ModelHealth
from spatialclaw_ros.agent._executor import Executor
from spatialclaw_ros.agent._llm import LLMClient
from spatialclaw_ros.agent._machine import Machine
from spatialclaw_ros.agent._outcome import finish
from spatialclaw_ros.agent._query import Query
from spatialclaw_ros.agent._settings import AgentSettings, LLMSettings
from spatialclaw_ros.agent._task import system_prompt
from spatialclaw_ros.agent._types import CancelToken, ProgressCallback, QueryOutcome, QueryRequest


class Agent:
    """Answers spatial questions by letting a VLM write cells into a query's kernel.

    Thread-safe: :meth:`run` may be called from several threads at once; the VLM calls of all
    queries share one event loop thread and one model client.
    """

    def __init__(
        self, llm: LLMSettings, settings: AgentSettings, chat_model: ChatModel | None = None
    ) -> None:
        """Start the agent's event loop thread (no network traffic yet).

        ``chat_model`` answers the model calls; None: an OpenAI-compatible client of ``llm``.
        """
        self.llm_settings = llm
        self.settings = settings
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="spatialclaw-agent", daemon=True)
        self._thread.start()
        self._model: ChatModel = chat_model if chat_model is not None else LLMClient(llm)
        self._system_prompt = system_prompt(settings)
        self._closed = False

    @property
    def system_prompt(self) -> str:
        """The system prompt every query starts with."""
        return self._system_prompt

    def check_model(self, timeout_s: float = 5.0) -> ModelHealth:
        """List the endpoint's models (configure-time health check); never raises for network errors."""
        future = asyncio.run_coroutine_threadsafe(self._model.health(timeout_s), self._loop)
        return future.result(timeout_s + 5.0)

    def run(
        self,
        request: QueryRequest,
        kernel: Executor,
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
        query = Query(request, self.settings, self.llm_settings, progress)
        machine = Machine(query, kernel, self._model, self._system_prompt, cancel or CancelToken())
        return asyncio.run_coroutine_threadsafe(_answer(query, machine), self._loop).result()

    def close(self) -> None:
        """Close the model client and stop the event loop thread."""
        if self._closed:
            return
        self._closed = True
        asyncio.run_coroutine_threadsafe(self._model.close(), self._loop).result(10.0)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10.0)
        self._loop.close()

    def __enter__(self) -> Agent:
        """Return self."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the agent."""
        self.close()


async def _answer(query: Query, machine: Machine) -> QueryOutcome:
    return finish(query, await machine.run())
