import mmap

import numpy as np

from spatialclaw_ros.frames import (
    FrameBuffer,
    decode_color,
    decode_depth,
    depth_to_image,
    detach,
    numpy_to_image,
    parse_image,
)

NS = 1_000_000_000
# 600×800 rgb8 is 1.4 MiB, its 32FC1 depth 1.8 MiB: both above the 1 MiB detach threshold.
LARGE = (600, 800)


def _owns_pages(message) -> bool:
    return isinstance(message.data.obj, mmap.mmap)


def _feed(buffer, msgs, rng, size, count, rate_hz):
    sent = {}
    for i in range(count):
        stamp = round(i / rate_hz * NS)
        rgb = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
        depth_m = rng.uniform(0.5, 8.0, size).astype(np.float32)
        buffer.add_image("front", msgs.cdr_image(msgs.image(numpy_to_image(rgb, "rgb8"), stamp)))
        buffer.add_depth("front", msgs.cdr_image(msgs.image(depth_to_image(depth_m, "32FC1"), stamp)))
        sent[stamp] = (rgb, depth_m)
    return sent


def test_large_key_frames_and_their_depth_move_to_pages_of_their_own(msgs, rng):
    buffer = FrameBuffer(keyframe_hz=1.0, history_s=100.0, max_memory_mb=100.0)
    sent = _feed(buffer, msgs, rng, LARGE, 7, 3.0)  # key frames at 0, 1, 2 s; the latest at 2 s too
    buffer.add_image("front", msgs.cdr_image(msgs.image(numpy_to_image(sent[0][0], "rgb8"), round(2.2 * NS))))
    frames = buffer.select(["front"], 100.0, 10)
    keyframes, latest = frames[:-1], frames[-1]
    assert [f.stamp_ns for f in keyframes] == [0, NS, 2 * NS]
    assert all(_owns_pages(f.message) and _owns_pages(f.depth_message) for f in keyframes)
    assert not _owns_pages(latest.message)  # superseded within a frame period: left where it arrived
    for frame in keyframes:
        rgb, depth_m = sent[frame.stamp_ns]
        np.testing.assert_array_equal(decode_color(frame.message, "front"), rgb)
        np.testing.assert_array_equal(decode_depth(frame.depth_message, "front"), depth_m)


def test_small_frames_stay_in_the_received_buffer(msgs, rng):
    buffer = FrameBuffer(keyframe_hz=1.0, history_s=100.0, max_memory_mb=100.0)
    _feed(buffer, msgs, rng, (6, 8), 4, 1.0)
    assert not any(_owns_pages(f.message) for f in buffer.select(["front"], 100.0, 10))


def test_detach_copies_the_pixels_once(msgs, rng):
    rgb = rng.integers(0, 256, (*LARGE, 3), dtype=np.uint8)
    received = bytearray(msgs.cdr_image(msgs.image(numpy_to_image(rgb, "rgb8"), 5)))
    view = parse_image(received, "front")
    detached = detach(view)
    received[-1] ^= 0xFF  # the received buffer may be reused: the detached copy must not change
    assert _owns_pages(detached) and detach(detached) is detached
    assert (detached.header, detached.width, detached.height, detached.step) == (
        view.header,
        view.width,
        view.height,
        view.step,
    )
    np.testing.assert_array_equal(decode_color(detached, "front"), rgb)
