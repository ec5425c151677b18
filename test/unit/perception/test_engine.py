import numpy as np
import pytest

from spatialclaw_ros.perception import PerceptionEngine, PerceptionError, PerceptionSettings
from spatialclaw_ros.protocol.perception import content_key, decode_message, encode_message


@pytest.fixture
def engine(tmp_path):
    settings = PerceptionSettings(
        segmenter="sam3", sam3_model=str(tmp_path / "absent"), depth="sensor", reconstructor="none"
    )
    engine = PerceptionEngine(settings)
    engine.load()
    return engine


def run(engine, operation, meta, arrays):
    return decode_message(engine.run(operation, encode_message(meta, arrays)))


def test_health_reports_missing_weights_without_raising(engine, tmp_path):
    backends = engine.health()["backends"]
    assert (
        backends["segmenter"]["state"] == "unavailable"
        and str(tmp_path / "absent") in backends["segmenter"]["detail"]
    )
    assert backends["depth"]["state"] == "ready"
    assert backends["reconstructor"]["state"] == "disabled"


def test_call_to_unavailable_backend_is_typed(engine):
    with pytest.raises(PerceptionError) as caught:
        run(engine, "segment", {"prompt": "chair"}, {"image": np.zeros((4, 4, 3), np.uint8)})
    assert caught.value.code == "PERCEPTION_UNAVAILABLE"


def test_sensor_depth_in_the_request_is_returned(engine):
    sensor = np.full((4, 5), 1.5, dtype=np.float32)
    meta, arrays = run(engine, "depth", {}, {"image": np.zeros((4, 5, 3), np.uint8), "sensor_depth": sensor})
    assert meta == {"source": "sensor", "metric": True} and np.array_equal(arrays["depth_m"], sensor)


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("classify", encode_message({}, {})),
        ("depth", b"garbage"),
        ("depth", encode_message({}, {})),
        ("track", encode_message({"prompt": "x", "frames": 0}, {})),
    ],
)
def test_bad_requests_are_invalid_queries(engine, operation, body):
    with pytest.raises(PerceptionError) as caught:
        engine.run(operation, body)
    assert caught.value.code == "INVALID_QUERY"


def test_replies_are_cached_by_content_key(engine):
    arrays = {"image": np.zeros((2, 2, 3), np.uint8), "sensor_depth": np.ones((2, 2), np.float32)}
    first = engine.run("depth", encode_message({}, arrays))
    assert engine.cached(content_key("depth", {}, arrays)) == first
    assert engine.health()["cache"]["entries"] == 1
