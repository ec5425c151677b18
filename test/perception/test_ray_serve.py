import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from spatialclaw_ros.agent import PerceptionUpstream
from spatialclaw_ros.agent._perception_relay import PerceptionRelay
from spatialclaw_ros.perception import PerceptionClient, PerceptionError, PerceptionSettings, build_ray_app

ray = pytest.importorskip(
    "ray", reason="Ray is not installed (scripts/setup_perception.sh installs ray[serve])"
)
serve = pytest.importorskip("ray.serve")

TOKEN = "ray-test-token-81d2"
SETTINGS = PerceptionSettings(
    segmenter="labels", depth="sensor", reconstructor="none", label_map=((7, "door"),)
)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def url():
    port = _free_port()
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        app = build_ray_app(
            SETTINGS, num_replicas=2, max_batch_size=4, token=TOKEN, ray_actor_options={"num_cpus": 0.5}
        )
        serve.run(app, name="perception", route_prefix="/")
        yield f"http://127.0.0.1:{port}"
    finally:
        serve.shutdown()
        ray.shutdown()


def request(seed):
    labels = np.zeros((30, 40), dtype=np.uint8)
    labels[seed % 20 : seed % 20 + 5, 3:9] = 7
    return {"prompt": "door"}, {"image": np.zeros((30, 40, 3), np.uint8), "labels": labels}


def test_replicas_serve_the_same_api(url):
    client = PerceptionClient(url=url, token=TOKEN)
    assert client.health()["backends"]["segmenter"]["state"] == "ready"
    meta, arrays = client.call("segment", *request(3))
    assert meta["labels"] == ["door"] and arrays["masks"].sum() == 30


def test_concurrent_requests_are_batched_and_answered(url):
    client = PerceptionClient(url=url, token=TOKEN)
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda seed: client.call("segment", *request(seed)), range(16)))
    assert [int(arrays["boxes"][0, 1]) for _, arrays in replies] == [seed % 20 for seed in range(16)]


def test_errors_keep_their_codes(url):
    with pytest.raises(PerceptionError) as caught:
        PerceptionClient(url=url, token=TOKEN).call("depth", {}, {"image": np.zeros((4, 4, 3), np.uint8)})
    assert caught.value.code == "PERCEPTION_UNAVAILABLE"


def test_a_kernel_reaches_the_ray_app_through_the_relay_which_holds_the_token(url, tmp_path):
    with pytest.raises(PerceptionError) as refused:
        PerceptionClient(url=url).health()
    assert refused.value.code == "UNAUTHORIZED"

    async def through_relay():
        relay = PerceptionRelay(tmp_path, PerceptionUpstream(url=url, token=TOKEN))
        await relay.start()
        try:
            kernel = PerceptionClient(socket_path=str(relay.path))
            return await asyncio.to_thread(kernel.call, "segment", *request(5))
        finally:
            await relay.close()

    meta, arrays = asyncio.run(through_relay())
    assert meta["labels"] == ["door"] and int(arrays["boxes"][0, 1]) == 5
