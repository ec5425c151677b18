import numpy as np
import pytest

from spatialclaw_ros.perception import PerceptionEngine, PerceptionError, PerceptionSettings
from spatialclaw_ros.protocol.perception import content_key, decode_message, encode_message

IMAGE = np.zeros((6, 8, 3), np.uint8)


def labels(column):
    out = np.zeros((6, 8), np.uint16)
    out[1:3, column : column + 2] = 14
    out[4:6, 0:8] = 1
    return out


@pytest.fixture
def engine():
    settings = PerceptionSettings(
        segmenter="labels", depth="sensor", reconstructor="none", label_map=((14, "table"),)
    )
    engine = PerceptionEngine(settings)
    engine.load()
    return engine


def run(engine, operation, meta, arrays):
    return decode_message(engine.run(operation, encode_message(meta, arrays)).body)


def test_segment_uses_the_frame_label_map(engine):
    meta = {"prompt": "chair", "label_map": {"14": "orange chair", "1": "floor"}}
    reply, out = run(engine, "segment", meta, {"image": IMAGE, "labels": labels(2)})
    assert reply["labels"] == ["orange chair"] and out["masks"].sum() == 4


def test_label_map_is_part_of_the_cache_key(engine):
    arrays = {"image": IMAGE, "labels": labels(2)}
    chair = {"prompt": "chair", "label_map": {"14": "chair"}}
    floor = {"prompt": "chair", "label_map": {"1": "chair"}}
    assert content_key("segment", chair, arrays) != content_key("segment", floor, arrays)
    assert run(engine, "segment", chair, arrays)[1]["masks"].sum() == 4
    assert run(engine, "segment", floor, arrays)[1]["masks"].sum() == 16


def test_segment_without_a_frame_map_falls_back_to_the_settings(engine):
    reply, _ = run(engine, "segment", {"prompt": "table"}, {"image": IMAGE, "labels": labels(2)})
    assert reply["labels"] == ["table"]


@pytest.mark.parametrize("label_map", [{"chair": "14"}, {"14": ""}, ["14", "chair"]])
def test_malformed_label_map_is_an_invalid_query(engine, label_map):
    with pytest.raises(PerceptionError) as caught:
        run(
            engine,
            "segment",
            {"prompt": "chair", "label_map": label_map},
            {"image": IMAGE, "labels": labels(2)},
        )
    assert caught.value.code == "INVALID_QUERY"


def test_track_links_by_instance_id_through_a_frame_without_the_object(engine):
    hidden = labels(2)
    hidden[hidden == 14] = 0
    frames = [labels(0), hidden, labels(6)]
    arrays = {
        name: value
        for i, ids in enumerate(frames)
        for name, value in ((f"image_{i}", IMAGE), (f"labels_{i}", ids))
    }
    label_maps = [{"14": "green chair"}] * 3
    _, out = run(engine, "track", {"prompt": "chair", "frames": 3, "label_maps": label_maps}, arrays)
    assert out["object_ids"].tolist() == [0]
    assert out["present"].tolist() == [[True, False, True]]
    assert out["masks"][0, 2, 1, 6] and not out["masks"][0, 0, 1, 6]


def test_track_needs_one_label_map_entry_per_frame(engine):
    arrays = {"image_0": IMAGE, "labels_0": labels(0)}
    with pytest.raises(PerceptionError) as caught:
        run(engine, "track", {"prompt": "chair", "frames": 1, "label_maps": []}, arrays)
    assert caught.value.code == "INVALID_QUERY"


def test_replies_are_cached_by_content_key(engine):
    arrays = {"image": IMAGE, "labels": labels(2)}
    meta = {"prompt": "chair", "label_map": {"14": "chair"}}
    first = engine.run("segment", encode_message(meta, arrays), "query-a")
    assert engine.probe("query-a", content_key("segment", meta, arrays)) == first.body
    assert engine.cache.stats()["entries"] == 1
