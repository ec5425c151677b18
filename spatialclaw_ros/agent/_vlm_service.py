"""The host side of ``vlm.ask``: an HTTP endpoint on a Unix socket in the kernel's services directory.

The kernel posts ``{"question": str, "images_png": [base64 PNG, ...]}`` to ``/ask``; the host makes
one isolated VLM call (no conversation history, role ``vlm_ask``) and answers ``{"answer": str}``, or
an HTTP error with ``{"error": str}``. The server runs on the agent's event loop, so the call shares
the query's client, deadline and token accounting. One request at a time per kernel; bodies over
``MAX_BODY_BYTES`` are refused.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from spatialclaw_ros.protocol.vlm_ask import ASK_PATH, MAX_BODY_BYTES, MAX_HEADER_BYTES, SOCKET_NAME

LOG = logging.getLogger("spatialclaw_ros.agent")
MAX_SOCKET_PATH = 107
CLOSE_WAIT_S = 2.0

# (question, PNG images) -> answer text; raises AskError for a refusal the kernel should see.
AskHandler = Callable[[str, list[bytes]], Awaitable[str]]


class AskError(RuntimeError):
    """A ``vlm.ask`` request was refused or failed; ``status`` is the HTTP status sent back."""

    def __init__(self, message: str, status: int = 400) -> None:
        """Keep the HTTP status to answer with."""
        super().__init__(message)
        self.status = status


class AskServer:
    """Serves ``POST /ask`` on ``<services_dir>/vlm.sock`` while a query runs."""

    def __init__(self, services_dir: Path, handler: AskHandler) -> None:
        """Remember where to listen and who answers; :meth:`start` opens the socket."""
        self.path = services_dir / SOCKET_NAME
        self._handler = handler
        self._server: asyncio.AbstractServer | None = None
        self._lock = asyncio.Lock()
        # The open connections, so that close() can end those a kernel still holds.
        self._connections: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Create the socket (replacing a stale one). Raises ``OSError`` when it cannot."""
        if len(str(self.path)) > MAX_SOCKET_PATH:
            raise OSError(f"socket path {self.path} is longer than {MAX_SOCKET_PATH} bytes")
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.path))

    async def close(self) -> None:
        """Stop listening, end the connections a kernel still holds, and remove the socket.

        Since Python 3.12.1 ``wait_closed`` waits for every open connection, so a cell that keeps one
        open would hold the end of its query: the connections are aborted first, and the wait is bounded
        by ``CLOSE_WAIT_S``. A request in flight still ends on its own; its answer goes nowhere.
        """
        if self._server is not None:
            self._server.close()
            for writer in self._connections:
                writer.transport.abort()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), CLOSE_WAIT_S)
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            await self._reply(reader, writer)
        finally:
            self._connections.discard(writer)

    async def _reply(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, reply = await self._answer(reader)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ValueError) as error:
            status, reply = 400, {"error": f"bad request: {error}"}
        body = json.dumps(reply).encode("utf-8")
        head = (
            f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        with contextlib.suppress(ConnectionError):
            writer.write(head.encode("ascii") + body)
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, dict[str, Any]]:
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEADER_BYTES:
            return 431, {"error": "request headers too large"}
        lines = head.decode("latin-1").split("\r\n")
        method, _, rest = lines[0].partition(" ")
        target = rest.split(" ")[0]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if method != "POST" or target != ASK_PATH:
            return 404, {"error": f"unknown endpoint {method} {target}"}
        length = int(headers.get("content-length", "-1"))
        if not 0 <= length <= MAX_BODY_BYTES:
            return 413, {"error": f"body must be 0 to {MAX_BODY_BYTES} bytes"}
        request = json.loads(await reader.readexactly(length))
        if not isinstance(request, dict):
            return 400, {"error": "the body must be a JSON object"}
        question = request.get("question")
        images = request.get("images_png")
        if not isinstance(question, str) or not isinstance(images, list):
            return 400, {"error": "need 'question' (str) and 'images_png' (list of base64 PNG)"}
        try:
            decoded = [base64.b64decode(item, validate=True) for item in images if isinstance(item, str)]
        except (binascii.Error, ValueError):
            return 400, {"error": "images_png must be base64 text"}
        async with self._lock:
            try:
                return 200, {"answer": await self._handler(question, decoded)}
            except AskError as error:
                return error.status, {"error": str(error)}
