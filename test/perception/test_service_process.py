import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from spatialclaw_ros.perception import (
    PerceptionClient,
    PerceptionError,
    PerceptionServiceProcess,
    PerceptionSettings,
)
from spatialclaw_ros.protocol._unix_http import UnixHTTPConnection
from spatialclaw_ros.protocol.perception import KEY_HEADER, content_key
from spatialclaw_ros.runtime import tools

LABELS = PerceptionSettings(
    segmenter="labels",
    depth="sensor",
    reconstructor="none",
    label_map=((1, "chair_1"), (2, "chair_2"), (3, "table")),
    max_request_mb=1,
)


def frame(index=0):
    labels = np.zeros((40, 60), dtype=np.uint16)
    labels[5:10, 5:20] = 1
    labels[20:30, 30:50] = 2
    labels[30:35, 0:10] = 3
    return SimpleNamespace(
        index=index,
        image=np.zeros((40, 60, 3), np.uint8),
        labels=labels,
        depth=None,
        K=np.eye(3),
        T_world_camera=None,
    )


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    directory = tmp_path_factory.mktemp("svc")
    with PerceptionServiceProcess(
        LABELS, f"/tmp/scp-{os.getpid()}.sock", log_path=directory / "log.txt"
    ) as process:
        tools.configure(socket_path=process.socket_path)
        yield process


def test_health_lists_each_backend(service):
    backends = service.health()["backends"]
    assert backends["segmenter"]["state"] == "ready"
    assert backends["reconstructor"]["state"] == "disabled"


def test_segment_through_the_kernel_tools(service):
    result = tools.segment(frame(), "chairs")
    assert result.labels == ("chair_2", "chair_1")
    assert result.masks.sum(axis=(1, 2)).tolist() == [200, 75]
    assert result.boxes[1].tolist() == [5.0, 5.0, 19.0, 9.0]


def test_repeated_call_is_served_from_cache(service):
    tools.segment(frame(), "table")
    key = content_key("segment", {"prompt": "table"}, {"image": frame().image, "labels": frame().labels})
    connection = UnixHTTPConnection(service.socket_path, 10.0)
    try:
        connection.request("POST", "/v1/segment", body=b"", headers={KEY_HEADER: key})
        assert connection.getresponse().status == 200
    finally:
        connection.close()
    assert "cache" not in service.health()


def test_track_keeps_instance_ids(service):
    result = tools.track([frame(0), frame(1)], "chair")
    assert result.present.all() and len(result) == 2


def test_depth_without_sensor_or_model_is_unavailable(service):
    with pytest.raises(PerceptionError) as caught:
        tools.depth(frame())
    assert caught.value.code == "PERCEPTION_UNAVAILABLE"


def test_oversized_request_is_refused(service):
    big = SimpleNamespace(index=0, image=np.zeros((800, 800, 3), np.uint8), labels=None)
    with pytest.raises(PerceptionError) as caught:
        tools.segment(big, "chair")
    assert caught.value.code == "TOO_LARGE"


def test_crash_gives_typed_error_then_restarts(service):
    os.kill(service.pid, signal.SIGKILL)
    with pytest.raises(PerceptionError) as caught:
        PerceptionClient(socket_path=service.socket_path, reconnect_s=0.0).health()
    assert caught.value.code == "PERCEPTION_UNAVAILABLE"
    deadline = time.monotonic() + 30
    while service.restarts == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert tools.segment(frame(), "chair").labels  # waits for the new process to listen


def test_missing_weights_are_reported_not_fatal(tmp_path):
    settings = PerceptionSettings(
        segmenter="sam3", sam3_model=str(tmp_path / "sam3"), depth="sensor", reconstructor="none"
    )
    with PerceptionServiceProcess(settings, tmp_path / "p.sock") as process:
        state = process.wait_loaded(30)["backends"]["segmenter"]
        assert state["state"] == "unavailable" and "hf download" in state["detail"]
        with pytest.raises(PerceptionError) as caught:
            process.client().call("segment", {"prompt": "chair"}, {"image": np.zeros((4, 4, 3), np.uint8)})
    assert caught.value.code == "PERCEPTION_UNAVAILABLE" and str(tmp_path / "sam3") in caught.value.message


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_tcp_service_requires_its_bearer_token():
    port = _free_port()
    env = {**os.environ, "SPATIALCLAW_PERCEPTION_TOKEN": "s3cret", "PYTHONPATH": str(Path.cwd())}
    command = [
        sys.executable,
        "-m",
        "spatialclaw_ros.perception",
        "--port",
        str(port),
        "--settings",
        LABELS.to_json(),
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        good = PerceptionClient(url=f"http://127.0.0.1:{port}", token="s3cret", reconnect_s=20.0)
        assert good.health()["status"] == "ok"
        with pytest.raises(PerceptionError) as caught:
            PerceptionClient(url=f"http://127.0.0.1:{port}", token="wrong").health()
        assert caught.value.code == "UNAUTHORIZED"
    finally:
        process.terminate()
        process.wait(10)


def test_service_dies_with_a_node_killed_outright(tmp_path):
    import psutil

    node_script = (
        "import time\n"
        "from spatialclaw_ros.perception import PerceptionServiceProcess, PerceptionSettings\n"
        "settings = PerceptionSettings(segmenter='none', depth='none', reconstructor='none')\n"
        f"service = PerceptionServiceProcess(settings, {str(tmp_path / 'p.sock')!r})\n"
        "service.start()\n"
        "print(service.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    node = subprocess.Popen([sys.executable, "-c", node_script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        service_pid = int(node.stdout.readline())
        assert psutil.pid_exists(service_pid)
    finally:
        node.kill()
        node.wait()

    def gone() -> bool:
        try:
            return psutil.Process(service_pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    deadline = time.monotonic() + 15.0
    while not gone() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gone(), "the perception service outlived the node that started it"
