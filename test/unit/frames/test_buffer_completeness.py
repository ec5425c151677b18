"""Only complete frames are ever selected: the pairing deadline, driven by explicit arrival times."""

import random

import numpy as np
import pytest

from spatialclaw_ros.frames import FrameBuffer, NoFramesError, depth_to_image, numpy_to_image

NS = 1_000_000_000
MS = 1_000_000
RGB = numpy_to_image(np.zeros((6, 8, 3), np.uint8), "rgb8")
DEPTH = depth_to_image(np.full((6, 8), 2.0, np.float32))
WAIT_S = 0.1
T0 = 1_000 * NS  # stamps and receive times start here (ns)


def paired_buffer(paired=("depth",), keyframe_hz=0.0) -> FrameBuffer:
    buffer = FrameBuffer(keyframe_hz=keyframe_hz, history_s=100.0, max_memory_mb=100.0, pairing_wait_s=WAIT_S)
    buffer.configure_camera("cam", paired=paired)
    return buffer


def colour(buffer, msgs, stamp_ns, received_ns):
    assert buffer.add_image("cam", msgs.image(RGB, stamp_ns), received_ns=received_ns)


def depth(buffer, msgs, stamp_ns, received_ns):
    assert buffer.add_depth("cam", msgs.image(DEPTH, stamp_ns), received_ns=received_ns)


def latest(buffer, now_ns):
    (frame,) = buffer.select(None, 0.0, 1, now_ns=now_ns)
    return frame


def start_stream(buffer, msgs):
    """One frame with its depth, so the depth stream is known to be sending."""
    colour(buffer, msgs, T0, T0)
    depth(buffer, msgs, T0, T0 + 5 * MS)


def test_a_frame_waits_for_its_depth_then_carries_it(msgs):
    buffer = paired_buffer()
    start_stream(buffer, msgs)
    colour(buffer, msgs, T0 + 100 * MS, T0 + 100 * MS)
    # Its depth is on the way: the newest complete frame is still the first one.
    assert latest(buffer, T0 + 120 * MS).stamp_ns == T0
    depth(buffer, msgs, T0 + 100 * MS, T0 + 130 * MS)
    frame = latest(buffer, T0 + 131 * MS)
    assert frame.stamp_ns == T0 + 100 * MS
    assert frame.depth_stamp_ns == T0 + 100 * MS
    assert frame.depth_expected


def test_a_frame_whose_depth_never_comes_appears_after_its_deadline_marked(msgs):
    buffer = paired_buffer()
    start_stream(buffer, msgs)
    colour(buffer, msgs, T0 + 100 * MS, T0 + 100 * MS)
    assert latest(buffer, T0 + 199 * MS).stamp_ns == T0
    frame = latest(buffer, T0 + 200 * MS)
    assert frame.stamp_ns == T0 + 100 * MS
    assert frame.depth_message is None and frame.depth_expected
    assert buffer.stats()["cam"].depth_missed == 1


def test_depth_before_colour_completes_the_frame_at_once(msgs):
    buffer = paired_buffer()
    start_stream(buffer, msgs)
    depth(buffer, msgs, T0 + 100 * MS, T0 + 98 * MS)
    colour(buffer, msgs, T0 + 100 * MS, T0 + 100 * MS)
    frame = latest(buffer, T0 + 100 * MS)
    assert frame.stamp_ns == T0 + 100 * MS and frame.depth_message is not None


def test_a_stream_that_never_delivered_makes_no_frame_wait(msgs):
    buffer = paired_buffer()
    colour(buffer, msgs, T0, T0)
    frame = latest(buffer, T0)
    assert frame.depth_message is None and not frame.depth_expected


def test_a_camera_without_paired_streams_never_waits(msgs):
    buffer = paired_buffer(paired=())
    colour(buffer, msgs, T0, T0)
    depth(buffer, msgs, T0, T0 + 1 * MS)
    colour(buffer, msgs, T0 + 100 * MS, T0 + 100 * MS)
    assert latest(buffer, T0 + 100 * MS).stamp_ns == T0 + 100 * MS


def test_a_stream_that_stopped_goes_silent_after_a_second_and_waits_again_once_back(msgs):
    buffer = paired_buffer()
    start_stream(buffer, msgs)  # the last depth message arrives at T0 + 5 ms
    period = 100 * MS
    for k in range(1, 10):  # the depth stream has stopped: each frame waits its whole deadline
        colour(buffer, msgs, T0 + k * period, T0 + k * period)
        assert latest(buffer, T0 + k * period + period - 1).stamp_ns == T0 + (k - 1) * period
    # A second without depth: the stream is silent, a new frame no longer waits.
    colour(buffer, msgs, T0 + 11 * period, T0 + 11 * period)
    assert latest(buffer, T0 + 11 * period).stamp_ns == T0 + 11 * period
    depth(buffer, msgs, T0 + 12 * period, T0 + 12 * period)  # back, before its colour frame
    colour(buffer, msgs, T0 + 12 * period, T0 + 12 * period + 1 * MS)
    colour(buffer, msgs, T0 + 13 * period, T0 + 13 * period)
    assert latest(buffer, T0 + 13 * period + 1 * MS).stamp_ns == T0 + 12 * period


def test_a_late_stream_keeps_its_frames_waiting(msgs):
    """Depth 150 ms late, past the deadline: frames complete without it, and never stop waiting."""
    buffer = paired_buffer()
    start_stream(buffer, msgs)
    period = 100 * MS
    for k in range(1, 30):
        colour(buffer, msgs, T0 + k * period, T0 + k * period)
        if k >= 2:
            depth(buffer, msgs, T0 + (k - 2) * period + period, T0 + k * period + 50 * MS)
        assert latest(buffer, T0 + k * period + 1 * MS).stamp_ns == T0 + (k - 1) * period


def test_a_newer_complete_frame_supersedes_an_older_one_still_waiting(msgs):
    buffer = paired_buffer()
    start_stream(buffer, msgs)
    colour(buffer, msgs, T0 + 33 * MS, T0 + 33 * MS)  # its depth is late
    colour(buffer, msgs, T0 + 66 * MS, T0 + 66 * MS)
    depth(buffer, msgs, T0 + 66 * MS, T0 + 70 * MS)
    frame = latest(buffer, T0 + 71 * MS)
    assert frame.stamp_ns == T0 + 66 * MS and frame.depth_message is not None
    stats = buffer.stats()["cam"]
    assert stats.waiting == 0
    assert stats.received == stats.rejected + stats.dropped + stats.evicted + stats.kept + stats.waiting


def test_late_depth_still_attaches_to_a_frame_completed_without_it(msgs):
    buffer = paired_buffer()
    start_stream(buffer, msgs)
    colour(buffer, msgs, T0 + 100 * MS, T0 + 100 * MS)
    assert latest(buffer, T0 + 250 * MS).depth_message is None
    depth(buffer, msgs, T0 + 100 * MS, T0 + 260 * MS)
    assert latest(buffer, T0 + 261 * MS).depth_stamp_ns == T0 + 100 * MS


def test_labels_are_waited_for_like_depth(msgs):
    labels = numpy_to_image(np.ones((6, 8), np.uint16), "mono16")
    buffer = paired_buffer(paired=("depth", "labels"))
    start_stream(buffer, msgs)
    buffer.add_labels("cam", msgs.image(labels, T0), received_ns=T0 + 6 * MS)
    colour(buffer, msgs, T0 + 100 * MS, T0 + 100 * MS)
    depth(buffer, msgs, T0 + 100 * MS, T0 + 110 * MS)
    assert latest(buffer, T0 + 111 * MS).stamp_ns == T0  # the labels are still on the way
    buffer.add_labels("cam", msgs.image(labels, T0 + 100 * MS), received_ns=T0 + 120 * MS)
    frame = latest(buffer, T0 + 121 * MS)
    assert frame.stamp_ns == T0 + 100 * MS and frame.labels_message is not None


def test_waiting_frames_are_not_selected_in_a_window_either(msgs):
    buffer = paired_buffer(keyframe_hz=float("inf"))
    start_stream(buffer, msgs)
    for k in range(1, 5):
        colour(buffer, msgs, T0 + k * 30 * MS, T0 + k * 30 * MS)
        depth(buffer, msgs, T0 + k * 30 * MS, T0 + k * 30 * MS + 2 * MS)
    colour(buffer, msgs, T0 + 150 * MS, T0 + 150 * MS)
    frames = buffer.select(None, 10.0, 100, now_ns=T0 + 151 * MS)
    assert [f.stamp_ns for f in frames] == [T0 + k * 30 * MS for k in range(5)]
    assert all(f.depth_message is not None for f in frames)


def test_no_complete_frame_yet_is_no_data(msgs):
    buffer = paired_buffer()
    depth(buffer, msgs, T0 - 100 * MS, T0 - 100 * MS)  # the stream is sending
    colour(buffer, msgs, T0, T0)
    with pytest.raises(NoFramesError):
        buffer.select(None, 0.0, 1, now_ns=T0 + 10 * MS)
    assert buffer.cameras_with_frames(now_ns=T0 + 10 * MS) == set()
    assert buffer.cameras_with_frames(now_ns=T0 + 100 * MS) == {"cam"}


def test_random_arrival_orders_never_select_a_frame_whose_depth_may_still_arrive(msgs):
    """10 Hz colour, depth 0–40 ms after it (sometimes before), 5 % of depth dropped."""
    rng = random.Random(12)
    buffer = paired_buffer(keyframe_hz=2.0)
    start_stream(buffer, msgs)
    events = []  # (receive time, kind, stamp)
    sent = set()
    for k in range(1, 401):
        stamp = T0 + k * 100 * MS
        events.append((stamp, "colour", stamp))
        if rng.random() < 0.05:
            continue
        lag = rng.uniform(-5 * MS, 40 * MS)
        events.append((stamp + int(lag), "depth", stamp))
        sent.add(stamp)
    events.sort()
    checked = 0
    for received, kind, stamp in events:
        (colour if kind == "colour" else depth)(buffer, msgs, stamp, received)
        now = received + 1 * MS
        frame = latest(buffer, now)
        if frame.stamp_ns in sent:
            assert frame.depth_message is not None, frame.stamp_ns
        else:
            # Depth dropped: shown only after its deadline, and marked.
            assert now - frame.stamp_ns >= WAIT_S * NS and frame.depth_expected
        checked += 1
    assert checked == len(events)
    stats = buffer.stats()["cam"]
    assert stats.depth_missed == 400 - len(sent)
    assert stats.received == stats.rejected + stats.dropped + stats.evicted + stats.kept + stats.waiting
