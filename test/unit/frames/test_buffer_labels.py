import json

import numpy as np

from spatialclaw_ros.frames import FrameBuffer, numpy_to_image

NS = 1_000_000_000
RGB = numpy_to_image(np.zeros((6, 8, 3), np.uint8), "rgb8")


def labels(value):
    return numpy_to_image(np.full((6, 8), value, np.uint16), "mono16")


def buffer(tolerance_s=0.02):
    return FrameBuffer(keyframe_hz=1.0, history_s=10.0, max_memory_mb=10.0, depth_tolerance_s=tolerance_s)


def test_labels_arriving_after_colour_are_paired_with_the_nearest_stamp(msgs):
    frames = buffer()
    frames.add_image("front", msgs.image(RGB, NS))
    frames.add_labels("front", msgs.cdr_image(msgs.image(labels(3), NS + 15_000_000)))
    frames.add_labels("front", msgs.cdr_image(msgs.image(labels(4), NS + 2_000_000)))
    (frame,) = frames.select(None, 0.0, 1)
    assert frame.labels_message.header.stamp.nanosec == 2_000_000
    stats = frames.stats()["front"]
    assert (stats.labels_received, stats.labels_kept, stats.labels_rejected) == (2, 1, 0)


def test_labels_arriving_before_colour_are_claimed(msgs):
    frames = buffer()
    frames.add_labels("front", msgs.image(labels(3), NS - 1_000_000))
    frames.add_image("front", msgs.image(RGB, NS))
    (frame,) = frames.select(None, 0.0, 1)
    assert frame.labels_message is not None and frame.depth_message is None


def test_labels_too_far_in_time_are_not_paired(msgs):
    frames = buffer(tolerance_s=0.01)
    frames.add_image("front", msgs.image(RGB, NS))
    frames.add_labels("front", msgs.image(labels(3), NS + 20_000_000))
    (frame,) = frames.select(None, 0.0, 1)
    assert frame.labels_message is None


def test_labels_are_kept_raw_and_count_against_memory(msgs):
    frames = buffer()
    frames.add_image("front", msgs.cdr_image(msgs.image(RGB, NS)))
    payload = msgs.cdr_image(msgs.image(labels(3), NS))
    before = frames.total_bytes
    frames.add_labels("front", payload)
    assert frames.total_bytes == before + len(payload)
    (frame,) = frames.select(None, 0.0, 1)
    assert isinstance(frame.labels_message.data, memoryview)


def test_bad_label_image_is_rejected_and_counted(msgs):
    frames = buffer()
    bad = msgs.image(numpy_to_image(np.zeros((6, 8), np.float32), "32FC1"), NS)
    assert not frames.add_labels("front", bad)
    stats = frames.stats()["front"]
    assert (stats.labels_received, stats.labels_rejected) == (1, 1)
    assert "labels.encoding" in stats.last_error


def test_label_map_is_parsed_and_travels_with_the_selected_frames(msgs):
    frames = buffer()
    assert frames.set_label_map("front", json.dumps({"1": "floor", "14": "orange chair"}))
    frames.add_image("front", msgs.image(RGB, NS))
    (frame,) = frames.select(None, 0.0, 1)
    assert frame.label_map == {1: "floor", 14: "orange chair"}
    assert frames.stats()["front"].label_map_size == 2


def test_bad_label_map_is_rejected_and_the_previous_one_stays(msgs):
    frames = buffer()
    frames.set_label_map("front", '{"4": "chair"}')
    for bad in ("not json", "[1, 2]", '{"chair": "4"}', '{"4": ""}', '{"4": 7}'):
        assert not frames.set_label_map("front", bad)
    stats = frames.stats()["front"]
    assert stats.label_maps_rejected == 5 and stats.label_map_size == 1
    assert "labels.map" in stats.last_error and "camera 'front'" in stats.last_error
    frames.add_image("front", msgs.image(RGB, NS))
    assert frames.select(None, 0.0, 1)[0].label_map == {4: "chair"}
