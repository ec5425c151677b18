import json

import numpy as np
import pytest

from spatialclaw_ros.runtime.frames import SnapshotError, load_frames

LABELS = np.array([[0, 14, 14], [1, 1, 14]], dtype=np.uint16)


def write(directory, labels=LABELS, label_maps=None, labels_path="labels/0000.npy"):
    """A one-frame snapshot written by hand, as write_snapshot lays it out."""
    for name in ("images", "labels"):
        (directory / name).mkdir(parents=True, exist_ok=True)
    np.save(directory / "images/0000.npy", np.zeros((2, 3, 3), np.uint8))
    np.save(directory / "labels/0000.npy", labels)
    record = {
        "index": 0,
        "camera": "front",
        "stamp_ns": 5_000_000_000,
        "frame_id": "front_optical",
        "width": 3,
        "height": 2,
        "image": "images/0000.npy",
        "depth": None,
        "labels": labels_path,
        "K": None,
        "T_world_camera": None,
    }
    document = {
        "format": "spatialclaw-snapshot",
        "version": 1,
        "world_frame": "map",
        "label_maps": {"front": {"1": "floor", "14": "orange chair"}} if label_maps is None else label_maps,
        "frames": [record],
    }
    (directory / "index.json").write_text(json.dumps(document))
    return directory


def test_labels_are_memory_mapped_read_only_integer_ids(tmp_path):
    frame = load_frames(write(tmp_path))[0]
    assert isinstance(frame.labels, np.memmap) and not frame.labels.flags.writeable
    assert frame.labels.dtype == np.uint16 and np.array_equal(frame.labels, LABELS)


def test_label_map_has_integer_ids(tmp_path):
    frame = load_frames(write(tmp_path))[0]
    assert frame.label_map == {1: "floor", 14: "orange chair"}
    assert int((frame.labels == 14).sum()) == 3


def test_repr_shows_labels_and_names_only_when_present(tmp_path):
    frames = load_frames(write(tmp_path / "with"))
    assert "labels=2×3 instance ids" in repr(frames[0]) and "14: 'orange chair'" in repr(frames[0])
    assert "labels 1/1" in repr(frames)
    plain = load_frames(write(tmp_path / "without", labels_path=None, label_maps={}))
    assert plain[0].labels is None and plain[0].label_map == {}
    assert "labels" not in repr(plain[0]) and "labels" not in repr(plain)


def test_float_label_array_is_a_snapshot_error(tmp_path):
    frame = load_frames(write(tmp_path, labels=LABELS.astype(np.float32)))[0]
    with pytest.raises(SnapshotError, match="labels is float32"):
        _ = frame.labels


def test_label_map_with_a_non_integer_id_is_a_snapshot_error(tmp_path):
    with pytest.raises(SnapshotError, match="not an integer id"):
        load_frames(write(tmp_path, label_maps={"front": {"chair": "4"}}))
