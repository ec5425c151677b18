import numpy as np

from spatialclaw_ros.frames import FrameBuffer, depth_to_image, numpy_to_image

NS = 1_000_000_000
RGB = numpy_to_image(np.zeros((6, 8, 3), np.uint8), "rgb8")


def depth(value_m):
    return depth_to_image(np.full((6, 8), value_m, np.float32))


def test_depth_arriving_after_colour_is_attached(msgs):
    buffer = FrameBuffer(keyframe_hz=1.0, history_s=10.0, max_memory_mb=10.0)
    buffer.add_image("front", msgs.image(RGB, NS))
    buffer.add_depth("front", msgs.cdr_image(msgs.image(depth(2.0), NS + 5_000_000)))
    (frame,) = buffer.select(None, 0.0, 1)
    assert frame.depth_message.header.stamp.nanosec == 5_000_000


def test_depth_arriving_before_colour_is_claimed(msgs):
    buffer = FrameBuffer(keyframe_hz=1.0, history_s=10.0, max_memory_mb=10.0)
    buffer.add_depth("front", msgs.image(depth(1.0), NS - 40_000_000))
    buffer.add_depth("front", msgs.image(depth(2.0), NS - 3_000_000))
    buffer.add_image("front", msgs.image(RGB, NS))
    (frame,) = buffer.select(None, 0.0, 1)
    assert frame.depth_message.header.stamp.nanosec == 997_000_000
    assert buffer.stats()["front"].depth_kept == 1


def test_depth_too_far_in_time_is_not_paired(msgs):
    buffer = FrameBuffer(keyframe_hz=1.0, history_s=10.0, max_memory_mb=10.0, depth_tolerance_s=0.01)
    buffer.add_image("front", msgs.image(RGB, NS))
    buffer.add_depth("front", msgs.image(depth(1.0), NS + 20_000_000))
    (frame,) = buffer.select(None, 0.0, 1)
    assert frame.depth_message is None


def test_pending_depth_counts_against_the_cap_and_is_bounded(msgs):
    buffer = FrameBuffer(keyframe_hz=1.0, history_s=10.0, max_memory_mb=10.0)
    for i in range(50):
        buffer.add_depth("front", msgs.cdr_image(msgs.image(depth(1.0), i * NS)))
    one = len(msgs.cdr_image(msgs.image(depth(1.0), 0)))
    assert buffer.total_bytes == 8 * one
    assert buffer.stats()["front"].depth_received == 50
