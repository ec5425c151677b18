"""The node's per-query relay between a kernel and the perception service, local or remote, token or not.

Real services (the plain service on a Unix socket and on TCP with a bearer token), the real relay on a
real socket, real HTTP; the last test runs a real sandboxed kernel through the agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import psutil
import pytest

from spatialclaw_ros.agent import ErrorCode, PerceptionUpstream, QueryRequest
from spatialclaw_ros.agent._perception_relay import MAX_CONNECTIONS, MAX_HEAD_BYTES, PerceptionRelay
from spatialclaw_ros.perception import (
    PerceptionClient,
    PerceptionError,
    PerceptionServiceProcess,
    PerceptionSettings,
)
from spatialclaw_ros.protocol._unix_http import UnixHTTPConnection
from spatialclaw_ros.protocol.perception import TOKEN_ENV
from spatialclaw_ros.runtime import tools

from support.scripted_vlm import ScriptedVLM

TOKEN = "relay-test-token-5f1c"
LABELS = PerceptionSettings(
    segmenter="labels", depth="sensor", reconstructor="none", label_map=((1, "chair_1"), (2, "table"))
)


def labelled_frame() -> SimpleNamespace:
    labels = np.zeros((40, 60), dtype=np.uint16)
    labels[5:10, 5:20] = 1
    labels[20:30, 30:50] = 2
    return SimpleNamespace(index=0, image=np.zeros((40, 60, 3), np.uint8), labels=labels, depth=None, K=None)


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Iterator[PerceptionServiceProcess]:
    directory = tmp_path_factory.mktemp("service")
    with PerceptionServiceProcess(
        LABELS, f"/tmp/relay-svc-{os.getpid()}.sock", log_path=directory / "service.log"
    ) as process:
        yield process


@pytest.fixture(scope="module")
def tcp_service(tmp_path_factory) -> Iterator[str]:
    """The plain service on 127.0.0.1 with ``--tcp`` and a bearer token; yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (tmp_path_factory.mktemp("tcp") / "service.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "spatialclaw_ros.perception", "--tcp", f"127.0.0.1:{port}",
         "--settings", LABELS.to_json(), "--log-level", "warning"],
        env={**os.environ, TOKEN_ENV: TOKEN},
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    client = PerceptionClient(url=url, token=TOKEN, timeout_s=2.0, reconnect_s=30.0)
    try:
        client.health()
        yield url
    finally:
        process.terminate()
        process.wait(10)
        log.close()


@pytest.fixture(scope="module")
def tls_service(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The plain service serving https on 127.0.0.1 with a self-signed certificate; its URL and the cert."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (directory / "service.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "spatialclaw_ros.perception", "--tcp", f"127.0.0.1:{port}",
         "--ssl-certfile", str(cert), "--ssl-keyfile", str(key), "--settings", LABELS.to_json()],
        env={**os.environ, TOKEN_ENV: TOKEN}, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"https://127.0.0.1:{port}"
    context = ssl.create_default_context(cafile=str(cert))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2, context=context):
                    break
            except urllib.error.HTTPError:
                break  # it answers (401 without the token)
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, "https service down"
                time.sleep(0.2)
        yield url, cert
    finally:
        process.terminate()
        process.wait(10)
        log.close()


@contextmanager
def relay(directory: Path, upstream: PerceptionUpstream) -> Iterator[PerceptionRelay]:
    """A relay serving ``directory/perception.sock`` on an event loop of its own thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    served = PerceptionRelay(directory, upstream)
    asyncio.run_coroutine_threadsafe(served.start(), loop).result(10)
    try:
        yield served
    finally:
        asyncio.run_coroutine_threadsafe(served.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def raw(path: Path, head: bytes, body: bytes = b"") -> tuple[int, dict]:
    """Send a hand-made request to the relay; the status and its JSON reply."""
    connection = UnixHTTPConnection(str(path), 10.0)
    connection.connect()
    try:
        connection.sock.sendall(head + body)
        response = http.client.HTTPResponse(connection.sock)
        response.begin()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_a_kernel_reaches_the_local_service_only_through_its_relay(service, tmp_path):
    with relay(tmp_path, PerceptionUpstream(socket_path=service.socket_path)) as served:
        client = tools.configure(socket_path=str(served.path))
        result = tools.segment(labelled_frame(), "chair")
        assert client.health()["status"] == "ok"
    assert result.labels == ("chair_1",) and result.masks.sum() == 75
    assert not served.path.exists()


@pytest.mark.parametrize(
    ("head", "status", "words"),
    [
        (b"DELETE /v1/queries/someone HTTP/1.1\r\n\r\n", 404, "no such perception endpoint"),
        (b"GET /v1/segment HTTP/1.1\r\n\r\n", 404, "no such perception endpoint"),
        (b"POST /v1/segment HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411, "Content-Length"),
        (b"POST /v1/segment HTTP/1.1\r\n\r\n", 411, "Content-Length"),
        (b"POST /v1/segment HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n", 413, "exceeds"),
        (b"POST /v1/segment HTTP/1.1\r\nX-Content-Key: ../../x\r\nContent-Length: 0\r\n\r\n", 400, "hex"),
        (b"garbage\r\n\r\n", 400, "malformed"),
        (b"GET /health HTTP/1.1\r\nX: " + b"a" * MAX_HEAD_BYTES + b"\r\n\r\n", 431, "head over"),
    ],
)
def test_the_relay_passes_only_bounded_health_and_operation_calls(service, tmp_path, head, status, words):
    with relay(tmp_path, PerceptionUpstream(socket_path=service.socket_path)) as served:
        got, reply = raw(served.path, head)
        assert (got, reply["code"]) == (status, "INVALID_QUERY") and words in reply["message"]
        assert PerceptionClient(socket_path=str(served.path)).health()["status"] == "ok"


def test_held_connections_are_bounded_and_cost_no_bodies(service, tmp_path, caplog):
    upstream = PerceptionUpstream(socket_path=service.socket_path, max_request_bytes=512 * 1024 * 1024)
    node = psutil.Process()
    with relay(tmp_path, upstream) as served:
        before = node.memory_info().rss
        held = []
        for _ in range(MAX_CONNECTIONS):
            connection = socket.socket(socket.AF_UNIX)
            connection.settimeout(0.5)
            connection.connect(str(served.path))
            with contextlib.suppress(TimeoutError):  # only the call being forwarded is read
                connection.sendall(b"POST /v1/segment HTTP/1.1\r\nContent-Length: 50000000\r\n\r\n")
                for _ in range(4):
                    connection.sendall(bytes(1 << 20))
            held.append(connection)
        deadline = time.monotonic() + 10
        while len(served._handlers) < MAX_CONNECTIONS and time.monotonic() < deadline:
            time.sleep(0.01)
        status, reply = raw(served.path, b"GET /health HTTP/1.1\r\n\r\n")
        growth_mib = (node.memory_info().rss - before) / 2**20
        for connection in held:
            connection.close()
        assert PerceptionClient(socket_path=str(served.path)).health()["status"] == "ok"
    assert status == 429 and "at once" in reply["message"]
    assert growth_mib < 50
    assert not [record for record in caplog.records if record.name == "asyncio"]  # cut cleanly at close


def test_remote_service_gets_the_token_from_the_relay_only(tcp_service, tmp_path):
    with pytest.raises(PerceptionError) as refused:
        PerceptionClient(url=tcp_service, timeout_s=5.0).health()
    assert refused.value.code == "UNAUTHORIZED"
    with relay(tmp_path, PerceptionUpstream(url=tcp_service, token=TOKEN)) as served:
        tools.configure(socket_path=str(served.path))
        result = tools.segment(labelled_frame(), "table")
    assert result.labels == ("table",)


def test_an_https_service_is_reached_with_its_certificate_checked(tls_service, tmp_path, monkeypatch):
    url, cert = tls_service
    with relay(tmp_path, PerceptionUpstream(url=url, token=TOKEN)) as served:
        tools.configure(socket_path=str(served.path))
        with pytest.raises(PerceptionError) as untrusted:
            tools.segment(labelled_frame(), "table")
    assert untrusted.value.code == "PERCEPTION_UNAVAILABLE"
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with relay(tmp_path, PerceptionUpstream(url=url, token=TOKEN)) as served:
        tools.configure(socket_path=str(served.path))
        result = tools.segment(labelled_frame(), "table")
    assert result.labels == ("table",)
    assert PerceptionClient(url=url, token=TOKEN, timeout_s=5.0).health()["status"] == "ok"


def test_a_wrong_token_is_a_typed_refusal_in_the_kernel(tcp_service, tmp_path):
    with relay(tmp_path, PerceptionUpstream(url=tcp_service, token="wrong")) as served:
        tools.configure(socket_path=str(served.path))
        with pytest.raises(PerceptionError) as refused:
            tools.segment(labelled_frame(), "table")
    assert refused.value.code == "UNAUTHORIZED"


def test_an_unreachable_service_is_perception_unavailable(tmp_path):
    with relay(tmp_path, PerceptionUpstream(socket_path=str(tmp_path / "nobody.sock"))) as served:
        tools.configure(socket_path=str(served.path))
        with pytest.raises(PerceptionError) as refused:
            tools.segment(labelled_frame(), "table")
    assert refused.value.code == "PERCEPTION_UNAVAILABLE"


KERNEL_CODE = """
import os, socket, types
lab = np.zeros((40, 60), np.uint16); lab[20:30, 30:50] = 2
frame = types.SimpleNamespace(index=0, image=np.zeros((40, 60, 3), np.uint8), labels=lab)
found = tools.segment(frame, "table")
seen = open("/proc/self/environ", "rb").read().decode("utf-8", "replace") + repr(dict(os.environ))
try:
    socket.create_connection(("127.0.0.1", PORT), timeout=2).close()
    direct = "reached"
except OSError:
    direct = "refused"
ReturnAnswer(f"{found.labels[0]} {int(found.masks.sum())} token_seen={'TOKEN_VALUE' in seen} direct={direct}")
"""


@pytest.mark.sandbox
def test_a_sandboxed_kernel_uses_a_remote_service_without_seeing_its_token(
    tcp_service, kernel, make_agent, monkeypatch
):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)  # in the node's environment, as a deployment would have it
    port = tcp_service.rsplit(":", 1)[1]
    code = KERNEL_CODE.replace("PORT", port).replace("TOKEN_VALUE", TOKEN)
    with ScriptedVLM([]) as server:
        agent = make_agent(server.base_url, perception=PerceptionUpstream(url=tcp_service, token=TOKEN))
        outcome = agent.run(QueryRequest("table?", code=code), kernel)
    assert outcome.error_code == ErrorCode.NONE, outcome.error_message
    assert outcome.answer == "table 200 token_seen=False direct=refused"
