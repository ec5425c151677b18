import asyncio
import threading

import numpy as np
import pytest

from spatialclaw_ros.agent._vlm_service import AskError, AskServer
from spatialclaw_ros.runtime.vlm import VLM, VLMError


@pytest.fixture
def serve(tmp_path):
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    servers = []

    def start(handler):
        server = AskServer(tmp_path, handler)
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(5)
        servers.append(server)
        return server

    yield start
    for server in servers:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def test_kernel_client_gets_the_host_answer(serve):
    seen = []

    async def handler(question, images):
        seen.append((question, [image[:8] for image in images]))
        return "red"

    server = serve(handler)
    answer = VLM(str(server.path)).ask([np.zeros((4, 4, 3), np.uint8), np.ones((2, 2))], "colour?")
    assert answer == "red" and seen == [("colour?", [b"\x89PNG\r\n\x1a\n"] * 2)]


def test_host_refusal_reaches_the_kernel_as_vlm_error(serve):
    async def handler(question, images):
        raise AskError("budget spent", 429)

    server = serve(handler)
    with pytest.raises(VLMError, match="budget spent"):
        VLM(str(server.path)).ask(np.zeros((4, 4)), "q")


def test_no_service_is_a_clear_error(tmp_path):
    with pytest.raises(VLMError, match="not reachable"):
        VLM(str(tmp_path / "missing.sock")).ask(np.zeros((4, 4)), "q")
