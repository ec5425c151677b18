import numpy as np

from spatialclaw_ros.frames import FrameBuffer, numpy_to_image

NS = 1_000_000_000


def invariant_holds(stats):
    return stats.received == stats.rejected + stats.dropped + stats.evicted + stats.kept


def test_keyframes_at_most_keyframe_hz_plus_the_latest(publish):
    buffer = FrameBuffer(keyframe_hz=2.0, history_s=100.0, max_memory_mb=100.0)
    sent = publish(buffer, "front", 10.0, 90, 30.0)
    kept = [frame.stamp_ns for frame in buffer.select(["front"], 100.0, 1000)]
    assert kept[-1] == max(sent.rgb)
    assert np.all(np.diff(kept[:-1]) >= NS / 2)
    assert len(kept) == 7  # 3 s at 2 Hz (0, .5, …, 2.5 s) plus the latest (2.967 s)
    stats = buffer.stats()["front"]
    assert (stats.received, stats.kept, stats.dropped) == (90, 7, 83) and invariant_holds(stats)


def test_zero_keyframe_hz_keeps_only_the_latest(publish):
    buffer = FrameBuffer(keyframe_hz=0.0, history_s=100.0, max_memory_mb=100.0)
    sent = publish(buffer, "front", 0.0, 10, 10.0)
    assert [f.stamp_ns for f in buffer.select(None, 100.0, 50)] == [max(sent.rgb)]


def test_infinite_keyframe_hz_keeps_every_frame(publish):
    buffer = FrameBuffer(keyframe_hz=float("inf"), history_s=100.0, max_memory_mb=100.0)
    publish(buffer, "front", 0.0, 10, 10.0)
    assert buffer.stats()["front"].kept == 10


def test_out_of_order_frame_is_rejected(msgs, publish):
    buffer = FrameBuffer(keyframe_hz=1.0, history_s=100.0, max_memory_mb=100.0)
    sent = publish(buffer, "front", 5.0, 3, 10.0)
    stale = msgs.image(_rgb_fields(), min(sent.rgb), "front_optical")
    assert not buffer.add_image("front", msgs.cdr_image(stale))
    stats = buffer.stats()["front"]
    assert stats.rejected == 1 and "not newer" in stats.last_error and invariant_holds(stats)


def test_clock_jumping_back_past_the_history_restarts_the_camera(publish):
    buffer = FrameBuffer(keyframe_hz=1.0, history_s=5.0, max_memory_mb=100.0)
    publish(buffer, "front", 100.0, 30, 10.0)
    sent = publish(buffer, "front", 1.0, 3, 10.0)
    assert {f.stamp_ns for f in buffer.select(None, 100.0, 50)} <= set(sent.rgb)
    assert invariant_holds(buffer.stats()["front"])


def test_rate_is_measured_on_receive_times(publish):
    buffer = FrameBuffer(keyframe_hz=1.0, history_s=100.0, max_memory_mb=100.0)
    publish(buffer, "front", 0.0, 31, 15.0)
    assert abs(buffer.stats()["front"].rate_hz - 15.0) < 1e-6


def _rgb_fields():
    return numpy_to_image(np.zeros((6, 8, 3), np.uint8), "rgb8")
