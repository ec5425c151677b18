"""AskServer.close() ends the connections a kernel still holds (Python >= 3.12.1 waits for them)."""

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator

import numpy as np

from spatialclaw_ros.agent._vlm_service import CLOSE_WAIT_S, AskServer
from spatialclaw_ros.runtime._images import encode_png

PROMPTLY_S = CLOSE_WAIT_S / 4


@contextlib.asynccontextmanager
async def _held(server: AskServer, request: bytes) -> AsyncIterator[asyncio.StreamReader]:
    """A kernel's connection that sent ``request`` and stays open until the host ends it."""
    reader, writer = await asyncio.open_unix_connection(str(server.path))
    writer.write(request)
    await writer.drain()
    try:
        yield reader
    finally:
        writer.close()


async def _never_asked(question, images):
    raise AssertionError("no request was sent")


async def test_close_ends_a_connection_a_kernel_holds_open_promptly(tmp_path):
    server = AskServer(tmp_path, _never_asked, max_side_px=1024, jpeg_quality=85)
    await server.start()
    async with _held(server, b"POST /ask HTTP/1.1\r\n") as reader:
        await asyncio.sleep(0.1)  # the server accepts the connection
        await asyncio.wait_for(server.close(), PROMPTLY_S)
        assert await asyncio.wait_for(reader.read(), PROMPTLY_S) == b""
    assert not server.path.exists()


async def test_close_ends_a_connection_with_a_request_in_flight_promptly(tmp_path):
    asked, answer = asyncio.Event(), asyncio.Event()

    async def handler(question, images):
        asked.set()
        await answer.wait()
        return "late"

    server = AskServer(tmp_path, handler, max_side_px=1024, jpeg_quality=85)
    await server.start()
    png = base64.b64encode(encode_png(np.zeros((2, 2), np.uint8))).decode("ascii")
    body = json.dumps({"question": "q", "images_png": [png]}).encode("ascii")
    request = b"POST /ask HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    async with _held(server, request) as reader:
        await asyncio.wait_for(asked.wait(), 5.0)
        await asyncio.wait_for(server.close(), PROMPTLY_S)
        assert await asyncio.wait_for(reader.read(), PROMPTLY_S) == b""
    answer.set()
    await asyncio.sleep(0.1)  # the handler ends; its answer goes nowhere
