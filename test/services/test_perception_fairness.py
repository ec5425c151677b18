"""Queries sharing the real perception service process: fair turns, ended work dropped, a private cache.

The slow work is real: label-image segmentation over a large frame whose label map names hundreds of
instances costs the service about a tenth of a second per call (one full-frame comparison each). A
query's full queue is over a second of such work: served first come, first served, it would delay a
neighbour past the bound (1.5 × its unloaded latency + 1 s); served in turn, by one call at most.
"""

import json
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

import numpy as np
import pytest

from spatialclaw_ros.perception import (
    PerceptionClient,
    PerceptionError,
    PerceptionServiceProcess,
    PerceptionSettings,
)
from spatialclaw_ros.protocol._unix_http import UnixHTTPConnection
from spatialclaw_ros.protocol.perception import KEY_HEADER, QUERY_HEADER, content_key

pytest.importorskip("fastapi", reason="the perception service needs fastapi (requirements/perception.txt)")
pytest.importorskip("uvicorn", reason="the perception service needs uvicorn (requirements/perception.txt)")

SETTINGS = PerceptionSettings(
    segmenter="labels", depth="sensor", reconstructor="none", max_request_mb=8, max_queued_per_query=32
)
SLOW_IDS = 600
SLOW_SIDE_PX = 600
FLOOD = 40  # calls sent at once: more than the queue holds


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    log = tmp_path_factory.mktemp("perception") / "log.txt"
    with PerceptionServiceProcess(SETTINGS, f"/tmp/scf-{os.getpid()}.sock", log_path=log) as process:
        yield process


def client(service, query_id=None):
    return PerceptionClient(socket_path=service.socket_path, query_id=query_id, timeout_s=60.0)


def small_call(service, query_id, seed):
    """A cheap segment call, new content for every ``seed`` (never answered from the cache)."""
    labels = np.zeros((40, 60), np.uint16)
    labels[5:10, 5:20] = 1
    labels[39, 59] = 1000 + seed
    _, arrays = client(service, query_id).call(
        "segment",
        {"prompt": "chair", "label_map": {"1": "chair"}},
        {"image": np.zeros((40, 60, 3), np.uint8), "labels": labels},
    )
    return arrays["masks"].sum() == 75


def slow_call(service, query_id, seed):
    labels = np.zeros((SLOW_SIDE_PX, SLOW_SIDE_PX), np.uint16)
    labels[0, 0] = seed
    label_map = {str(i): f"chair_{i}" for i in range(1, SLOW_IDS + 1)}
    return client(service, query_id).call(
        "segment",
        {"prompt": "chair", "label_map": label_map},
        {"image": np.zeros((SLOW_SIDE_PX, SLOW_SIDE_PX, 3), np.uint8), "labels": labels},
    )


def timed(call):
    started = time.monotonic()
    assert call()
    return time.monotonic() - started


def outcome(future):
    try:
        future.result()
        return "answered"
    except PerceptionError as error:
        return error.code


@pytest.mark.slow
def test_work_of_an_ended_query_is_dropped_and_delays_no_other(service):
    unloaded_s = statistics.median(timed(lambda i=i: small_call(service, "victim", i)) for i in range(5))
    with ThreadPoolExecutor(FLOOD) as pool:
        flood = [pool.submit(slow_call, service, "attacker", seed) for seed in range(1, FLOOD + 1)]
        # A BUSY reply proves the attacker's queue is full (32 waiting behind its running call).
        assert any(outcome(future) == "BUSY" for future in as_completed(flood))
        dropped = client(service).end_query("attacker")
        after_end_s = timed(lambda: small_call(service, "victim", 100))
        outcomes = [outcome(future) for future in flood]
    # Its waiting calls, the running one (its result discarded) and any later one answer CANCELED:
    # none of them was computed.
    assert outcomes.count("CANCELED") >= dropped >= SETTINGS.max_queued_per_query - 1
    assert set(outcomes) <= {"answered", "BUSY", "CANCELED"}
    assert after_end_s <= 1.5 * unloaded_s + 1.0
    with pytest.raises(PerceptionError) as caught:
        small_call(service, "attacker", 102)
    assert caught.value.code == "CANCELED"
    assert small_call(service, "victim", 103)


@pytest.mark.slow
def test_queries_take_turns(service):
    unloaded_s = statistics.median(timed(lambda i=i: small_call(service, "patient", i)) for i in range(5))
    with ThreadPoolExecutor(FLOOD) as pool:
        flood = [pool.submit(slow_call, service, "greedy", seed) for seed in range(100, 100 + FLOOD)]
        assert any(outcome(future) == "BUSY" for future in as_completed(flood))
        waits = [timed(lambda i=i: small_call(service, "patient", 200 + i)) for i in range(3)]
        assert all(outcome(future) in {"answered", "BUSY"} for future in flood)
    assert max(waits) <= 1.5 * unloaded_s + 1.0


def test_a_probe_never_hits_another_querys_content(service):
    assert small_call(service, "alice", 300)
    labels = np.zeros((40, 60), np.uint16)
    labels[5:10, 5:20] = 1
    labels[39, 59] = 1300
    meta = {"prompt": "chair", "label_map": {"1": "chair"}}
    arrays = {"image": np.zeros((40, 60, 3), np.uint8), "labels": labels}

    def probe(query_id):
        connection = UnixHTTPConnection(service.socket_path, 10.0)
        try:
            connection.request(
                "POST",
                "/v1/segment",
                body=b"",
                headers={KEY_HEADER: content_key("segment", meta, arrays), QUERY_HEADER: query_id},
            )
            response = connection.getresponse()
            body = response.read()
            return response.status, json.loads(body)["code"] if response.status != 200 else "HIT"
        finally:
            connection.close()

    assert probe("alice") == (200, "HIT")
    assert probe("bob") == (404, "CACHE_MISS")
    assert small_call(service, "bob", 300)  # answered all the same, from the cache
    client(service).end_query("alice")
    assert small_call(service, "carol", 301)
