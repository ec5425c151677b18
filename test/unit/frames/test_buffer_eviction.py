import numpy as np

from spatialclaw_ros.frames import FrameBuffer, numpy_to_image

NS = 1_000_000_000
MB = 1024 * 1024


def test_frames_older_than_history_are_evicted(publish):
    buffer = FrameBuffer(keyframe_hz=1.0, history_s=3.0, max_memory_mb=100.0)
    sent = publish(buffer, "front", 0.0, 100, 10.0)
    stamps = [f.stamp_ns for f in buffer.select(None, 1000.0, 1000)]
    newest = max(sent.rgb)
    assert min(stamps) >= newest - 3 * NS and stamps[-1] == newest
    stats = buffer.stats()["front"]
    assert stats.evicted == 7 and stats.received == stats.dropped + stats.evicted + stats.kept


def test_memory_cap_holds_under_a_flood(msgs):
    buffer = FrameBuffer(keyframe_hz=float("inf"), history_s=1e6, max_memory_mb=1.0)
    payload_peak = 0
    for i in range(400):
        rgb = np.full((120, 160, 3), i % 256, np.uint8)
        camera = ("front", "left", "right")[i % 3]
        buffer.add_image(camera, msgs.cdr_image(msgs.image(numpy_to_image(rgb, "rgb8"), i * NS // 100)))
        payload_peak = max(payload_peak, buffer.total_bytes)
    assert payload_peak <= 1 * MB
    kept = sum(s.kept for s in buffer.stats().values())
    assert kept == (1 * MB) // (120 * 160 * 3 + 64)
    assert sum(s.evicted for s in buffer.stats().values()) == 400 - kept


def test_memory_cap_evicts_the_oldest_received_first(msgs):
    frame_bytes = len(msgs.cdr_image(msgs.image(numpy_to_image(np.zeros((100, 100, 3), np.uint8), "rgb8"))))
    buffer = FrameBuffer(keyframe_hz=float("inf"), history_s=1e6, max_memory_mb=3.5 * frame_bytes / MB)
    for i, camera in enumerate(["a", "b", "a", "b", "a"]):
        message = msgs.image(numpy_to_image(np.zeros((100, 100, 3), np.uint8), "rgb8"), (i + 1) * NS)
        buffer.add_image(camera, msgs.cdr_image(message), received_ns=i)
    stamps = [f.stamp_ns for f in buffer.select(None, 1e6, 100)]
    assert stamps == [3 * NS, 4 * NS, 5 * NS]


def test_a_message_larger_than_the_cap_is_rejected(msgs):
    buffer = FrameBuffer(keyframe_hz=1.0, history_s=10.0, max_memory_mb=0.01)
    message = msgs.image(numpy_to_image(np.zeros((100, 100, 3), np.uint8), "rgb8"), NS)
    assert not buffer.add_image("front", msgs.cdr_image(message))
    stats = buffer.stats()["front"]
    assert stats.rejected == 1 and "max_memory_mb" in stats.last_error and buffer.total_bytes == 0


def test_bad_message_is_counted_not_raised(msgs):
    buffer = FrameBuffer(keyframe_hz=1.0, history_s=10.0, max_memory_mb=10.0)
    bad = msgs.Image(msgs.header(NS, "f"), 2, 2, "rgb8", 0, 6, bytes(11))
    assert not buffer.add_image("front", bad)
    assert not buffer.add_image("front", b"\x00\x01\x00\x00\x01")
    stats = buffer.stats()["front"]
    assert (stats.received, stats.rejected, stats.kept) == (2, 2, 0)
    assert buffer.cameras_with_frames() == set()
