"""Hostile requests to the real perception service process: each is refused as JSON, within its bound.

Each attack is followed by a benign call that must answer.
"""

import io
import json
import os
import zipfile

import numpy as np
import pytest

from spatialclaw_ros.perception import (
    PerceptionClient,
    PerceptionError,
    PerceptionServiceProcess,
    PerceptionSettings,
)
from spatialclaw_ros.protocol._unix_http import UnixHTTPConnection
from spatialclaw_ros.protocol.perception import QUERY_HEADER, encode_message

pytest.importorskip("fastapi", reason="the perception service needs fastapi (requirements/perception.txt)")
pytest.importorskip("uvicorn", reason="the perception service needs uvicorn (requirements/perception.txt)")
psutil = pytest.importorskip("psutil")

SETTINGS = PerceptionSettings(
    segmenter="labels", depth="sensor", reconstructor="none", label_map=((1, "chair_1"),), max_request_mb=8
)
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    log = tmp_path_factory.mktemp("perception") / "log.txt"
    with PerceptionServiceProcess(SETTINGS, f"/tmp/scb-{os.getpid()}.sock", log_path=log) as process:
        yield process


def post(service, path, body, headers=None):
    """(status, JSON reply) of a raw POST."""
    connection = UnixHTTPConnection(service.socket_path, 30.0)
    try:
        connection.request("POST", path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def benign(service):
    labels = np.zeros((8, 8), np.uint16)
    labels[2:4, 2:4] = 1
    _, arrays = service.client().call(
        "segment", {"prompt": "chair"}, {"image": np.zeros((8, 8, 3), np.uint8), "labels": labels}
    )
    return arrays["masks"].sum() == 4


def npy(shape, dtype="|u1"):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": dtype, "fortran_order": False, "shape": shape})
    return header.getvalue()


def deflated_bomb(size):
    """A ~``size / 1000``-byte npz whose image member inflates to ``size`` bytes of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("__meta__.npy", npy((16,)) + b'{"prompt": "x"} ')
        with archive.open("image.npy", "w", force_zip64=True) as member:
            member.write(npy((size,)))
            chunk = bytes(MIB)
            for _ in range(size // MIB):
                member.write(chunk)
    return buffer.getvalue()


def rss_mib(service):
    return psutil.Process(service.pid).memory_info().rss / MIB


def test_a_decompression_bomb_is_refused_without_growing_the_service(service):
    bomb = deflated_bomb(286 * MIB)
    assert len(bomb) < SETTINGS.max_request_mb * MIB
    before = rss_mib(service)
    status, reply = post(service, "/v1/segment", bomb, {QUERY_HEADER: "attacker"})
    assert 400 <= status < 500 and reply["code"] == "INVALID_QUERY" and "compressed" in reply["message"]
    assert rss_mib(service) - before < 100
    assert benign(service)


def test_a_huge_declared_shape_is_refused(service):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("__meta__.npy", npy((2,)) + b"{}")
        archive.writestr("image.npy", npy((4096, 4096, 3)) + b"tiny")
    status, reply = post(service, "/v1/segment", buffer.getvalue())
    assert status == 400 and reply["code"] == "INVALID_QUERY"
    assert benign(service)


def test_deeply_nested_json_is_a_json_error(service):
    deep = b"[" * 30000 + b"]" * 30000
    buffer = io.BytesIO()
    np.savez(buffer, __meta__=np.frombuffer(deep, np.uint8))
    status, reply = post(service, "/v1/segment", buffer.getvalue())
    assert status == 400 and reply["code"] == "INVALID_QUERY" and "nested" in reply["message"]
    status, reply = post(service, "/v1/segment", deep, {"Content-Type": "application/json"})
    assert status == 400 and reply["code"] == "INVALID_QUERY"
    assert benign(service)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/v1/segment", 405), ("POST", "/nowhere", 404), ("PUT", "/v1/queries/x", 405)],
)
def test_unknown_routes_and_methods_are_json(service, method, path, status):
    connection = UnixHTTPConnection(service.socket_path, 10.0)
    try:
        connection.request(method, path, body=b"{")
        response = connection.getresponse()
        assert response.status == status and json.loads(response.read())["code"] == "INVALID_QUERY"
    finally:
        connection.close()
    assert benign(service)


def test_an_oversized_body_is_too_large(service):
    status, reply = post(service, "/v1/segment", bytes(9 * MIB))
    assert status == 413 and reply["code"] == "TOO_LARGE"
    assert benign(service)


def test_health_shows_no_cache_figures(service):
    assert set(service.health()) == {"status", "backends"}


def test_a_query_cannot_end_another(service):
    with pytest.raises(PerceptionError) as caught:
        PerceptionClient(socket_path=service.socket_path, query_id="mallory").end_query("victim")
    assert caught.value.code == "UNAUTHORIZED"
    assert benign(service)


def test_refused_requests_as_large_as_allowed_leave_nothing_behind(service):
    """Each is held once while served and freed when answered, not kept by a traceback or the worker."""
    body = encode_message({"prompt": "chair"}, {"image": np.zeros((1500, 1800, 3), np.uint8)})  # 7.7 MiB
    assert len(body) < SETTINGS.max_request_mb * MIB
    post(service, "/v1/segment", body)  # the first one sizes the allocator's arenas
    before = rss_mib(service)
    for _ in range(10):
        status, reply = post(service, "/v1/segment", body, {QUERY_HEADER: "q-large"})
        assert status == 400 and "label image" in reply["message"]
    assert rss_mib(service) - before < 1.5 * len(body) / MIB, "more than the allocator keeps of one request"
    assert benign(service)
