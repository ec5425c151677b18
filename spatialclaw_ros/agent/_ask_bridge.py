"""The host side of ``vlm.ask`` for one query: its socket, its call budget, one isolated VLM call each.

A cell's ``vlm.ask(images, question)`` reaches :meth:`AskBridge.answer` through the
:class:`~spatialclaw_ros.agent._vlm_service.AskServer` on the kernel's services directory. The call
has no conversation history (role ``vlm_ask``), ends at the query's step deadline and counts in the
query's tokens; a refusal goes back to the cell as an HTTP error. The server checks, decodes and
re-encodes the images (in a worker process) before they reach :meth:`AskBridge.answer`.
"""

from __future__ import annotations

import logging
import time

from spatialclaw_ros.agent import _prompts
from spatialclaw_ros.agent._chat_model import (
    ChatModel,
    ContextOverflowError,
    DeadlineError,
    ModelUnavailableError,
    RequestRejectedError,
)
from spatialclaw_ros.agent._conversation import Turn
from spatialclaw_ros.agent._executor import Executor
from spatialclaw_ros.agent._images import EncodedImage
from spatialclaw_ros.agent._parse import parse_reply
from spatialclaw_ros.agent._query import Query
from spatialclaw_ros.agent._vlm_service import AskError, AskServer

LOG = logging.getLogger("spatialclaw_ros.agent")


class AskBridge:
    """Answers the ``vlm.ask`` calls of one query's cells with ``model``."""

    def __init__(self, query: Query, model: ChatModel) -> None:
        """No call made yet."""
        self._query = query
        self._model = model
        self.calls = 0

    async def open(self, executor: Executor) -> AskServer | None:
        """Serve ``vlm.ask`` on a socket in the kernel's services directory; None (logged) when it cannot."""
        query = self._query
        llm = query.llm
        server = AskServer(
            executor.services_dir, self.answer, llm.max_image_side_px, llm.jpeg_quality, admit=self.admit
        )
        try:
            with query.stages.measure("ask_server"):
                await server.start()
                executor.share_socket(server.path)
        except (OSError, ValueError) as error:
            LOG.error("vlm.ask is unavailable for this query: %s", error)
            query.trace.event("error", stage="vlm_ask", message=f"vlm.ask socket: {error}")
            await server.close()
            return None
        return server

    def admit(self) -> None:
        """Count one call, before its body is read; ``AskError`` (429) once the budget is spent."""
        max_calls = self._query.settings.vlm_ask_max_calls
        if self.calls >= max_calls:
            raise AskError(f"vlm.ask budget of {max_calls} calls per query is spent", 429)
        self.calls += 1

    async def answer(self, question: str, images: list[EncodedImage]) -> str:
        """The model's answer to ``question`` about the images. Raises ``AskError`` with an HTTP status."""
        query = self._query
        turns = [Turn("system", "system", _prompts.render("vlm_ask")), Turn("user", "task", question, images)]
        estimate = sum(turn.tokens() for turn in turns)
        started = time.monotonic()
        try:
            with query.stages.measure("vlm_ask"):
                result = await self._model.chat(
                    "vlm_ask", [turn.message_json() for turn in turns], estimate, query.budget.step_deadline
                )
        except (ModelUnavailableError, RequestRejectedError, ContextOverflowError) as error:
            query.trace.event(
                "vlm_ask", question=question, error=str(error), duration_s=time.monotonic() - started
            )
            raise AskError(f"the VLM could not answer: {error}", 503) from None
        except DeadlineError:
            raise AskError("the query's time budget is spent", 504) from None
        query.tokens.add("vlm_ask", result)
        answer = parse_reply(result.text).reasoning or result.text.strip()
        stored = [{"path": query.trace.image(image), "label": image.label} for image in images]
        query.trace.event(
            "vlm_ask", question=question, answer=answer, duration_s=result.duration_s, images=stored
        )
        return answer
