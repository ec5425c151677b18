import json

import numpy as np
import pytest

from spatialclaw_ros.frames import FrameBuffer, numpy_to_image, write_snapshot
from spatialclaw_ros.runtime.frames import load_frames

NS = 1_000_000_000
LABEL_MAP = {1: "floor", 14: "orange chair", 70000: "gray person"}


@pytest.fixture
def buffer():
    return FrameBuffer(keyframe_hz=2.0, history_s=100.0, max_memory_mb=100.0)


def publish_labels(buffer, msgs, sent, encoding="32SC1", size=(6, 8)):
    """A label image per colour frame that ``publish`` sent, same stamp; returns the ids by stamp."""
    rng = np.random.default_rng(3)
    ids = {}
    for stamp in sent.rgb:
        values = rng.choice(list(LABEL_MAP), size).astype(np.int32 if encoding == "32SC1" else np.uint16)
        buffer.add_labels("front", msgs.cdr_image(msgs.image(numpy_to_image(values, encoding), stamp)))
        ids[stamp] = values
    return ids


def test_labels_and_label_map_round_trip_through_a_snapshot(tmp_path, buffer, publish, msgs):
    sent = publish(buffer, "front", 0.0, 20, 10.0, with_depth=True)
    ids = publish_labels(buffer, msgs, sent)
    buffer.set_label_map("front", json.dumps({str(k): v for k, v in LABEL_MAP.items()}))
    index = write_snapshot(buffer, tmp_path / "q", None, 10.0, 32)
    assert index.errors == () and index.label_maps == {"front": LABEL_MAP}
    document = json.loads((tmp_path / "q" / "index.json").read_text())
    assert document["label_maps"] == {"front": {str(k): v for k, v in LABEL_MAP.items()}}
    frames = load_frames(tmp_path / "q")
    assert len(frames) == len(index.frames) == 5
    for frame in frames:
        assert frame.labels.dtype == np.int32
        assert np.array_equal(frame.labels, ids[index.frames[frame.index].stamp_ns])
        assert frame.label_map == LABEL_MAP


def test_label_image_of_the_wrong_size_is_left_out_with_an_error(tmp_path, buffer, publish, msgs):
    sent = publish(buffer, "front", 0.0, 1, 10.0, size=(6, 8))
    publish_labels(buffer, msgs, sent, encoding="mono16", size=(6, 7))
    index = write_snapshot(buffer, tmp_path / "q", None, 0.0, 1)
    assert index.frames[0].labels is None
    (error,) = index.errors
    assert "camera 'front': labels.width" in error
    assert load_frames(tmp_path / "q")[0].labels is None


def test_camera_without_labels_has_none_and_an_empty_map(tmp_path, buffer, publish):
    publish(buffer, "front", 0.0, 3, 10.0)
    write_snapshot(buffer, tmp_path / "q", None, 0.0, 1)
    document = json.loads((tmp_path / "q" / "index.json").read_text())
    assert document["label_maps"] == {} and document["frames"][0]["labels"] is None
    frame = load_frames(tmp_path / "q")[0]
    assert frame.labels is None and frame.label_map == {}
