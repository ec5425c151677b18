"""The host side of ``vlm.ask``: an HTTP endpoint on a Unix socket in the kernel's services directory.

The kernel posts ``{"question": str, "images_png": [base64 PNG or JPEG, ...]}`` to ``/ask``; the host
makes one isolated VLM call (no conversation history, role ``vlm_ask``) and answers
``{"answer": str}``, or an HTTP error with ``{"error": str}``. The server runs on the agent's event
loop, which serves every query, so nothing a kernel sends is held or decoded there unbounded:

- the header is read through a reader limited to ``MAX_HEADER_BYTES``; past ``MAX_CONNECTIONS`` open
  connections a new one is answered 429 at once; a body needs a ``Content-Length`` of at most
  ``MAX_BODY_BYTES`` and is read only when its request is served (one at a time per kernel);
- the body is parsed, its question length and images checked (PNG or JPEG, sizes read from the
  header) and the images decoded and re-encoded in :class:`~spatialclaw_ros.agent._images.ImageWorkers`
  processes with their own memory bound and time limit.
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

from spatialclaw_ros.agent._http_wire import parse_head, write_json
from spatialclaw_ros.agent._images import (
    WORKERS,
    EncodedImage,
    ImageDecodeError,
    ImageWorkers,
    WorkerError,
    encode_bytes,
)
from spatialclaw_ros.protocol.errors import release_frames
from spatialclaw_ros.protocol.images import (
    MAX_IMAGE_BYTES,
    ImageFormatError,
    ImageTooLargeError,
    check_image,
)
from spatialclaw_ros.protocol.vlm_ask import (
    ASK_PATH,
    MAX_BODY_BYTES,
    MAX_CONNECTIONS,
    MAX_HEADER_BYTES,
    MAX_IMAGES,
    MAX_QUESTION_CHARS,
    SOCKET_NAME,
)

LOG = logging.getLogger("spatialclaw_ros.agent")
MAX_SOCKET_PATH = 107
CLOSE_WAIT_S = 2.0
# Bytes read from the socket at a time while a body arrives.
BODY_CHUNK_BYTES = 1024 * 1024
# The longest base64 text an image within MAX_IMAGE_BYTES can take, characters.
_MAX_IMAGE_BASE64_CHARS = 4 * -(-MAX_IMAGE_BYTES // 3)

# (question, images re-encoded for the model) -> answer text; raises AskError for a refusal the
# kernel should see.
AskHandler = Callable[[str, list[EncodedImage]], Awaitable[str]]

# Called before a request's body is read (under the kernel's lock); raises AskError to refuse it.
Admission = Callable[[], None]


class AskError(RuntimeError):
    """A ``vlm.ask`` request was refused or failed; ``status`` is the HTTP status sent back."""

    def __init__(self, message: str, status: int = 400) -> None:
        """Keep the HTTP status to answer with."""
        super().__init__(message)
        self.status = status


class AskServer:
    """Serves ``POST /ask`` on ``<services_dir>/vlm.sock`` while a query runs.

    Images reach ``handler`` re-encoded as JPEG with a long side of at most ``max_side_px`` pixels
    and JPEG quality ``jpeg_quality``, labelled ``image 1``, ``image 2``, …
    """

    def __init__(
        self,
        services_dir: Path,
        handler: AskHandler,
        max_side_px: int,
        jpeg_quality: int,
        workers: ImageWorkers = WORKERS,
        admit: Admission = lambda: None,
    ) -> None:
        """Remember where to listen and who answers; :meth:`start` opens the socket.

        ``admit`` may refuse a request (its call budget spent) before its body is read or decoded.
        """
        self.path = services_dir / SOCKET_NAME
        self._handler = handler
        self._admit = admit
        self._image_args = (max_side_px, jpeg_quality)
        self._workers = workers
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
        self._workers.warm()
        # The reader's limit bounds the header it buffers, and pauses a body that is not being read.
        self._server = await asyncio.start_unix_server(
            self._serve, path=str(self.path), limit=MAX_HEADER_BYTES
        )

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
        if len(self._connections) >= MAX_CONNECTIONS:
            await _respond(writer, 429, {"error": f"at most {MAX_CONNECTIONS} vlm.ask connections at once"})
            return
        self._connections.add(writer)
        try:
            try:
                status, reply = 200, {"answer": await self._answer(reader)}
            except AskError as error:
                status, reply = error.status, {"error": str(error)}
                release_frames(error)  # the request's body goes now, not at the next collection
            except (asyncio.IncompleteReadError, ConnectionError) as error:
                status, reply = 400, {"error": f"bad request: {error}"}
                release_frames(error)
            except Exception as error:  # a host bug: logged, and the cell still gets an answer
                LOG.exception("vlm.ask failed")
                status, reply = 500, {"error": f"the host failed to answer: {type(error).__name__}: {error}"}
                release_frames(error)
            await _respond(writer, status, reply)
        finally:
            self._connections.discard(writer)

    async def _answer(self, reader: asyncio.StreamReader) -> str:
        length = await _read_head(reader)
        async with self._lock:
            self._admit()
            question, images = await self._read_request(reader, length)
            return await self._handler(question, images)

    async def _read_request(
        self, reader: asyncio.StreamReader, length: int
    ) -> tuple[str, list[EncodedImage]]:
        """Read the body, then parse it and re-encode its images in a worker (the body is dropped)."""
        body = bytearray()
        while len(body) < length:
            chunk = await reader.read(min(BODY_CHUNK_BYTES, length - len(body)))
            if not chunk:
                raise AskError(f"the body ended after {len(body)} of {length} bytes")
            body += chunk
        try:
            return await self._workers.run(prepare_request, body, *self._image_args)
        except WorkerError as error:
            raise AskError(f"the images could not be decoded: {error}", 422) from None
        except MemoryError:
            raise AskError("the request needed more memory than the image worker may use", 422) from None


async def _read_head(reader: asyncio.StreamReader) -> int:
    """Read the request line and headers; the body's length in bytes. Raises ``AskError``."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise AskError(f"request headers over {MAX_HEADER_BYTES} bytes", 431) from None
    request = parse_head(head)
    if request is None:
        raise AskError("malformed HTTP request", 400)
    method, target, headers = request
    if method != "POST" or target != ASK_PATH:
        raise AskError(f"unknown endpoint {method} {target}", 404)
    if "transfer-encoding" in headers or "content-length" not in headers:
        raise AskError("a Content-Length is required", 411)
    try:
        length = int(headers["content-length"])
    except ValueError:
        raise AskError("the Content-Length is not a number", 400) from None
    if not 0 <= length <= MAX_BODY_BYTES:
        raise AskError(f"the body must be 0 to {MAX_BODY_BYTES} bytes, not {length}", 413)
    return length


async def _respond(writer: asyncio.StreamWriter, status: int, reply: dict[str, Any]) -> None:
    await write_json(writer, status, reply)
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


def prepare_request(body: bytes, max_side_px: int, jpeg_quality: int) -> tuple[str, list[EncodedImage]]:
    """The question and the images of a request body, re-encoded for the model (run in a worker).

    Raises:
        AskError: the body is not a valid request (400), the question is over ``MAX_QUESTION_CHARS``
            (413), an image is not PNG or JPEG (415), over the pixel or byte limits (413), or cannot be
            decoded within the worker's memory (422).
    """
    try:
        return _prepare(body, max_side_px, jpeg_quality)
    except MemoryError:
        raise AskError("the request needed more memory than the image worker may use", 422) from None


def _prepare(body: bytes, max_side_px: int, jpeg_quality: int) -> tuple[str, list[EncodedImage]]:
    try:
        request = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise AskError(f"the body is not JSON: {error}") from None
    if not isinstance(request, dict):
        raise AskError("the body must be a JSON object")
    question, images = request.get("question"), request.get("images_png")
    if not isinstance(question, str) or not isinstance(images, list):
        raise AskError("need 'question' (str) and 'images_png' (list of base64 PNG or JPEG)")
    if len(question) > MAX_QUESTION_CHARS:
        raise AskError(
            f"a question of {len(question)} characters is over the limit of {MAX_QUESTION_CHARS}", 413
        )
    if not question.strip():
        raise AskError("the question is empty")
    if not 1 <= len(images) <= MAX_IMAGES:
        raise AskError(f"vlm.ask takes 1 to {MAX_IMAGES} images, got {len(images)}")
    return question, [_encode(item, k + 1, max_side_px, jpeg_quality) for k, item in enumerate(images)]


def _encode(item: Any, number: int, max_side_px: int, jpeg_quality: int) -> EncodedImage:
    label = f"image {number}"
    if not isinstance(item, str):
        raise AskError(f"{label} is not base64 text")
    if len(item) > _MAX_IMAGE_BASE64_CHARS:
        raise AskError(f"{label} is over the limit of {MAX_IMAGE_BYTES} bytes", 413)
    try:
        data = base64.b64decode(item, validate=True)
    except (binascii.Error, ValueError):
        raise AskError(f"{label} is not base64 text") from None
    try:
        check_image(data)
    except ImageTooLargeError as error:
        raise AskError(f"{label}: {error}", 413) from None
    except ImageFormatError as error:
        raise AskError(f"{label}: {error}", 415) from None
    try:
        return encode_bytes(data, label, max_side_px, jpeg_quality)
    except ImageDecodeError as error:
        raise AskError(str(error), 422) from None
