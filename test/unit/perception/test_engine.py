import numpy as np
import pytest

from spatialclaw_ros.perception import PerceptionEngine, PerceptionError, PerceptionSettings
from spatialclaw_ros.protocol.perception import decode_message, encode_message


@pytest.fixture
def engine(tmp_path):
    settings = PerceptionSettings(
        segmenter="sam3", sam3_model=str(tmp_path / "absent"), depth="sensor", reconstructor="none"
    )
    engine = PerceptionEngine(settings)
    engine.load()
    return engine


def run(engine, operation, meta, arrays):
    return decode_message(engine.run(operation, encode_message(meta, arrays)).body)


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


def test_depth_without_a_model_is_unavailable_and_says_how_to_get_one(engine):
    with pytest.raises(PerceptionError) as caught:
        run(engine, "depth", {}, {"image": np.zeros((4, 5, 3), np.uint8)})
    assert caught.value.code == "PERCEPTION_UNAVAILABLE" and "'da3'" in str(caught.value)


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
