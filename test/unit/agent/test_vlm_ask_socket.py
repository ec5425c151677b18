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
        server = AskServer(tmp_path, handler, max_side_px=1024, jpeg_quality=85)
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(5)
        servers.append(server)
        return server

    yield start
    for server in servers:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def test_kernel_client_gets_the_host_answer(serve):
    seen = []

    async def handler(question, images):
        seen.append(
            (question, [(image.label, image.width, image.height, image.jpeg[:2]) for image in images])
        )
        return "red"

    server = serve(handler)
    answer = VLM(str(server.path)).ask([np.zeros((4, 6, 3), np.uint8), np.ones((2, 2))], "colour?")
    assert answer == "red"
    assert seen == [("colour?", [("image 1", 6, 4, b"\xff\xd8"), ("image 2", 2, 2, b"\xff\xd8")])]


def test_host_refusal_reaches_the_kernel_as_vlm_error(serve):
    async def handler(question, images):
        raise AskError("budget spent", 429)

    server = serve(handler)
    with pytest.raises(VLMError, match="budget spent"):
        VLM(str(server.path)).ask(np.zeros((4, 4)), "q")


def test_no_service_is_a_clear_error(tmp_path):
    with pytest.raises(VLMError, match="not reachable"):
        VLM(str(tmp_path / "missing.sock")).ask(np.zeros((4, 4)), "q")


def test_the_kernel_client_refuses_what_the_host_would_refuse_before_sending(tmp_path):
    client = VLM(str(tmp_path / "never-used.sock"), max_side_px=2048)
    with pytest.raises(VLMError, match="at most 16000"):
        client.ask(np.zeros((4, 4)), "x" * 16001)
    noise = np.random.default_rng(0).integers(0, 256, (2048, 2048, 3), dtype=np.uint8)  # a 12 MiB PNG
    with pytest.raises(VLMError, match=r"image 1 cannot be sent: an image of \d+ bytes is over the limit"):
        client.ask(noise, "q")
    with pytest.raises(VLMError, match="over the limit of 25165824: send fewer or smaller images"):
        client.ask([noise[:1024, :1024]] * 8, "q")  # 8 × 3 MiB PNGs, 4/3 of that in base64
