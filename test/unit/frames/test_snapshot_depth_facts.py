"""Per-frame depth facts from the snapshot to the kernel: source, depth-to-colour stamp offset, lost depth."""

import json
import time

import numpy as np
import pytest

from spatialclaw_ros.frames import FrameBuffer, depth_to_image, numpy_to_image, write_snapshot
from spatialclaw_ros.runtime.frames import load_frames

NS = 1_000_000_000
MS = 1_000_000
T0 = 1_000 * NS
RGB = numpy_to_image(np.zeros((6, 8, 3), np.uint8), "rgb8")
DEPTH = depth_to_image(np.full((6, 8), 2.0, np.float32))


@pytest.fixture
def snapshot(tmp_path, msgs):
    """Three frames of a camera that sends depth: with depth 4 ms late, with it 3 ms early, without it."""
    buffer = FrameBuffer(keyframe_hz=float("inf"), history_s=100.0, max_memory_mb=100.0, pairing_wait_s=0.1)
    buffer.configure_camera("cam", paired=("depth",))
    buffer.set_camera_info("cam", msgs.camera_info(8, 6))
    # Received on this process's monotonic clock, long enough ago that every pairing wait is over
    # (whatever the machine's uptime).
    received0 = time.monotonic_ns() - 10 * NS
    for offset, stamp in ((4 * MS, T0), (-3 * MS, T0 + 100 * MS), (None, T0 + 200 * MS)):
        buffer.add_image("cam", msgs.image(RGB, stamp), received_ns=received0 + stamp - T0)
        if offset is not None:
            buffer.add_depth(
                "cam", msgs.image(DEPTH, stamp + offset), received_ns=received0 + stamp - T0 + 5 * MS
            )
    index = write_snapshot(buffer, tmp_path / "q", None, 10.0, 32)
    return tmp_path / "q", index


def test_index_records_the_depth_stamp_and_whether_depth_was_expected(snapshot):
    directory, index = snapshot
    records = json.loads((directory / "index.json").read_text())["frames"]
    assert [r["depth_stamp_ns"] for r in records] == [T0 + 4 * MS, T0 + 97 * MS, None]
    assert [r["depth_expected"] for r in records] == [True, True, True]
    assert [f.depth_stamp_ns for f in index.frames] == [T0 + 4 * MS, T0 + 97 * MS, None]
    assert all(f.depth_expected for f in index.frames)


def test_frames_say_where_their_depth_came_from_and_when(snapshot):
    directory, _ = snapshot
    frames = load_frames(directory)
    assert [f.depth_source for f in frames] == ["sensor", "sensor", None]
    assert frames[0].depth_offset_s == pytest.approx(0.004)
    assert frames[1].depth_offset_s == pytest.approx(-0.003)
    assert frames[2].depth_offset_s is None and frames[2].depth is None
    assert [f.depth_missing for f in frames] == [False, False, True]
    assert "offset +4.0 ms" in repr(frames[0]) and "missing" in repr(frames[2])
    assert "depth 2/3 (1 missing)" in repr(frames)


def test_a_camera_without_depth_misses_none(tmp_path, msgs):
    buffer = FrameBuffer(keyframe_hz=1.0, history_s=100.0, max_memory_mb=100.0)
    buffer.add_image("cam", msgs.image(RGB, T0))
    write_snapshot(buffer, tmp_path / "q")
    (frame,) = load_frames(tmp_path / "q")
    assert frame.depth_source is None and frame.depth_offset_s is None and frame.depth_missing is False


def test_an_index_without_the_depth_facts_still_reads(snapshot):
    directory, _ = snapshot
    document = json.loads((directory / "index.json").read_text())
    for record in document["frames"]:
        del record["depth_stamp_ns"], record["depth_expected"]
    (directory / "index.json").chmod(0o644)
    (directory / "index.json").write_text(json.dumps(document))
    frames = load_frames(directory)
    assert [f.depth_source for f in frames] == ["sensor", "sensor", None]
    assert [f.depth_offset_s for f in frames] == [None, None, None]
    assert not any(f.depth_missing for f in frames)
