"""The engine's shared cache tells no query what another sent: probes, timing, health."""

import time

import numpy as np
import pytest

from spatialclaw_ros.perception import PerceptionEngine, PerceptionSettings
from spatialclaw_ros.perception._scheduler import Job
from spatialclaw_ros.protocol.perception import content_key, encode_message

META = {"prompt": "table", "label_map": {"14": "table"}}
ARRAYS = {"image": np.zeros((6, 8, 3), np.uint8), "labels": np.full((6, 8), 14, np.uint16)}
KEY = content_key("segment", META, ARRAYS)
BODY = encode_message(META, ARRAYS)


@pytest.fixture
def engine():
    engine = PerceptionEngine(PerceptionSettings(segmenter="labels", depth="sensor", reconstructor="none"))
    engine.load()
    return engine


def test_a_probe_hits_only_content_the_same_query_sent(engine):
    engine.run("segment", BODY, "a")
    assert engine.probe("a", KEY) is not None
    assert engine.probe("b", KEY) is None
    assert engine.probe("", KEY) is None


def test_another_querys_cached_reply_is_held_back_as_long_as_its_computation(engine):
    first = engine.run("segment", BODY, "a")
    compute_s = engine.cache.get(KEY).compute_s
    started = time.monotonic()
    again = engine.run("segment", BODY, "b")
    assert again.body == first.body
    assert again.not_before >= started + compute_s > started
    assert engine.probe("b", KEY) == first.body  # b has now sent it itself


def test_a_query_repeating_its_own_call_is_not_held_back(engine):
    engine.run("segment", BODY, "a")
    assert engine.run("segment", BODY, "a").not_before <= time.monotonic()


def test_forgetting_a_query_ends_its_probe_hits(engine):
    engine.run("segment", BODY, "a")
    engine.forget("a")
    assert engine.probe("a", KEY) is None


def test_a_discarded_job_leaves_nothing_cached(engine):
    job = Job("a", lambda job: None)
    job.discard()
    engine.run("segment", BODY, "a", job)
    assert engine.cache.get(KEY) is None and engine.probe("a", KEY) is None


def test_health_shows_no_cache_figures(engine):
    engine.run("segment", BODY, "a")
    assert set(engine.health()) == {"status", "backends"}
