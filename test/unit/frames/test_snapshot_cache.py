"""Snapshots share decoded arrays through the buffer's cache: hard links, bounded, gone with their frames."""

import stat
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from spatialclaw_ros.frames import (
    FrameBuffer,
    SnapshotCache,
    depth_to_image,
    numpy_to_image,
    snapshot_cache,
    warm_snapshot_cache,
    write_snapshot,
)
from spatialclaw_ros.protocol.snapshot import depth_metres

NS = 1_000_000_000


@pytest.fixture
def buffer():
    return FrameBuffer(keyframe_hz=2.0, history_s=100.0, max_memory_mb=100.0)


def arrays(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*.npy"))


def names(directory: Path) -> set[str]:
    return {path.name for path in directory.iterdir()}


def test_a_second_snapshot_links_the_same_files_and_decodes_nothing(tmp_path, buffer, publish):
    publish(buffer, "front", 0.0, 40, 10.0, with_depth=True)
    first = write_snapshot(buffer, tmp_path / "a", None, 10.0, 32)
    second = write_snapshot(buffer, tmp_path / "b", None, 10.0, 32)
    assert first.arrays_decoded == 18 and first.arrays_linked == 18
    assert second.arrays_decoded == 0 and second.arrays_linked == 18
    for a, b in zip(arrays(tmp_path / "a"), arrays(tmp_path / "b"), strict=True):
        assert a.stat().st_ino == b.stat().st_ino
        assert a.stat().st_nlink == 3  # the cache's file and one link per snapshot


def test_linked_arrays_hold_the_published_pixels(tmp_path, buffer, publish):
    sent = publish(buffer, "front", 0.0, 20, 10.0, with_depth=True)
    write_snapshot(buffer, tmp_path / "a", None, 10.0, 32)
    index = write_snapshot(buffer, tmp_path / "b", None, 10.0, 32)
    for frame in index.frames:
        assert np.array_equal(np.load(tmp_path / "b" / frame.image), sent.rgb[frame.stamp_ns])
        depth = depth_metres(np.load(tmp_path / "b" / frame.depth), frame.depth_unit_m)
        np.testing.assert_array_equal(depth, sent.depth_m[frame.stamp_ns])


def test_snapshot_files_cache_files_are_read_only_and_the_cache_is_private(tmp_path, buffer, publish):
    publish(buffer, "front", 0.0, 20, 10.0, with_depth=True)
    write_snapshot(buffer, tmp_path / "a", None, 10.0, 32)
    cache = snapshot_cache(buffer)
    assert stat.S_IMODE(cache.directory.stat().st_mode) == 0o700
    files = [*arrays(tmp_path / "a"), *arrays(cache.directory), tmp_path / "a" / "index.json"]
    assert files and all(stat.S_IMODE(path.stat().st_mode) == 0o444 for path in files)


def test_entries_of_frames_that_aged_out_are_removed(tmp_path, publish):
    buffer = FrameBuffer(keyframe_hz=2.0, history_s=5.0, max_memory_mb=100.0)
    cache = SnapshotCache(100.0)
    publish(buffer, "front", 0.0, 50, 10.0, with_depth=True)
    write_snapshot(buffer, tmp_path / "a", None, 5.0, 32, cache=cache)
    old = set(names(cache.directory))
    publish(buffer, "front", 5.0, 100, 10.0, with_depth=True)  # 10 s later: every old frame aged out
    index = write_snapshot(buffer, tmp_path / "b", ["front"], 0.0, 1, cache=cache)
    assert not old & set(names(cache.directory))
    assert cache.entries == 2 == index.arrays_decoded  # the one frame of this snapshot: image and depth
    # The first snapshot still reads its arrays: the links keep them.
    assert all(np.load(path).size for path in arrays(tmp_path / "a"))


def test_entries_of_frames_pushed_out_by_the_memory_cap_are_removed(tmp_path, msgs):
    frame_bytes = 48 * 64 * 3
    buffer = FrameBuffer(keyframe_hz=float("inf"), history_s=100.0, max_memory_mb=10.5 * frame_bytes / 2**20)
    rgb = numpy_to_image(np.zeros((48, 64, 3), np.uint8), "rgb8")
    for i in range(10):
        buffer.add_image("cam", msgs.image(rgb, i * NS), received_ns=i * NS)
    cache = SnapshotCache(100.0)
    write_snapshot(buffer, tmp_path / "a", None, 100.0, 32, cache=cache)
    assert cache.entries == 10
    for i in range(10, 15):
        buffer.add_image("cam", msgs.image(rgb, i * NS), received_ns=i * NS)
    index = write_snapshot(buffer, tmp_path / "b", ["cam"], 0.0, 1, cache=cache)
    assert index.frames[0].stamp_ns == 14 * NS
    # Frames 0..4 left the buffer and their files the cache; 5..9 stay, 14 joined (10..13 never cached).
    assert cache.entries == 6 and len(names(cache.directory)) == 6


def test_the_cache_never_exceeds_its_bound(tmp_path, buffer, publish):
    sent = publish(buffer, "front", 0.0, 40, 10.0)
    file_bytes = 128 + 6 * 8 * 3  # header and pixels of one image
    cache = SnapshotCache(max_mb=3.5 * file_bytes / 2**20)
    index = write_snapshot(buffer, tmp_path / "a", None, 10.0, 32, cache=cache)
    assert len(index.frames) == 9
    # A new entry pushes out the least recently used one not being linked right now (frames are
    # placed by several threads: one that finds no room is written into the snapshot alone).
    assert cache.entries == 3 and cache.bytes == 3 * file_bytes <= cache.max_bytes
    assert index.arrays_decoded == 9 and 3 <= index.arrays_linked <= 9
    second = write_snapshot(buffer, tmp_path / "b", None, 10.0, 32, cache=cache)
    assert second.arrays_decoded >= 6 and cache.bytes <= cache.max_bytes
    for frame in index.frames:
        assert np.array_equal(np.load(tmp_path / "a" / frame.image), sent.rgb[frame.stamp_ns])
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o444 for path in arrays(tmp_path / "a"))


def test_arrays_larger_than_the_cache_are_written_into_the_snapshot(tmp_path, buffer, publish):
    publish(buffer, "front", 0.0, 40, 10.0, with_depth=True)
    cache = SnapshotCache(max_mb=100 / 2**20)  # smaller than any file
    index = write_snapshot(buffer, tmp_path / "a", None, 10.0, 32, cache=cache)
    assert index.arrays_linked == 0 and index.arrays_decoded == 18 and cache.entries == 0
    assert all(path.stat().st_nlink == 1 for path in arrays(tmp_path / "a"))


def test_a_cache_on_another_filesystem_is_copied_from(tmp_path, buffer, publish):
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on another filesystem than the test's temporary directory")
    sent = publish(buffer, "front", 0.0, 40, 10.0)
    cache = SnapshotCache(max_mb=10.0, parent=shm)
    write_snapshot(buffer, tmp_path / "a", None, 10.0, 32, cache=cache)
    index = write_snapshot(buffer, tmp_path / "b", None, 10.0, 32, cache=cache)
    assert index.arrays_copied == 9 and index.arrays_linked == 0 and index.arrays_decoded == 0
    for frame in index.frames:
        path = tmp_path / "b" / frame.image
        assert path.stat().st_nlink == 1 and stat.S_IMODE(path.stat().st_mode) == 0o444
        assert np.array_equal(np.load(path), sent.rgb[frame.stamp_ns])


def test_new_calibration_decodes_registered_depth_again(tmp_path, msgs):
    buffer = FrameBuffer(keyframe_hz=1.0, history_s=100.0, max_memory_mb=100.0)
    buffer.set_camera_info("cam", msgs.camera_info(8, 6, fx=50.0))
    buffer.set_camera_info("cam", msgs.camera_info(4, 3, fx=25.0), "depth")
    buffer.add_image("cam", msgs.image(numpy_to_image(np.zeros((6, 8, 3), np.uint8), "rgb8"), NS))
    depth_m = np.arange(1, 13, dtype=np.float32).reshape(3, 4)
    buffer.add_depth("cam", msgs.image(depth_to_image(depth_m, "32FC1"), NS))
    first = write_snapshot(buffer, tmp_path / "a")
    assert first.frames[0].depth_registration == "resampled"
    buffer.set_camera_info("cam", msgs.camera_info(4, 3, fx=12.5), "depth")
    second = write_snapshot(buffer, tmp_path / "b")
    assert second.arrays_decoded == 1 and second.arrays_linked == 2  # depth again; the image from the cache
    a = np.load(tmp_path / "a" / first.frames[0].depth)
    b = np.load(tmp_path / "b" / second.frames[0].depth)
    assert not np.array_equal(a, b, equal_nan=True)


def test_snapshots_written_at_once_share_the_cache(tmp_path, buffer, publish):
    sent = publish(buffer, "front", 0.0, 40, 10.0, with_depth=True)
    results = {}

    def run(name):
        results[name] = write_snapshot(buffer, tmp_path / name, None, 10.0, 32)

    threads = [threading.Thread(target=run, args=(f"s{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cache = snapshot_cache(buffer)
    assert cache.entries == 18 and len(names(cache.directory)) == 18
    for name, index in results.items():
        for frame in index.frames:
            assert np.array_equal(np.load(tmp_path / name / frame.image), sent.rgb[frame.stamp_ns])


def test_the_cache_directory_goes_with_its_buffer(tmp_path, publish):
    buffer = FrameBuffer(keyframe_hz=2.0, history_s=100.0, max_memory_mb=100.0)
    publish(buffer, "front", 0.0, 10, 10.0)
    write_snapshot(buffer, tmp_path / "a", None, 10.0, 32)
    directory = snapshot_cache(buffer).directory
    assert directory is not None and directory.parent == Path(tempfile.gettempdir())
    del buffer
    assert not directory.exists()


def test_warming_decodes_the_key_frames_ahead_of_a_snapshot(tmp_path, buffer, publish):
    publish(buffer, "front", 0.0, 40, 10.0, with_depth=True)
    cache = SnapshotCache(100.0)
    assert warm_snapshot_cache(buffer, cache) == 8  # nine frames held; the newest is left to the snapshot
    assert warm_snapshot_cache(buffer, cache) == 0
    index = write_snapshot(buffer, tmp_path / "a", None, 10.0, 32, cache=cache)
    assert index.arrays_decoded == 2 and index.arrays_linked == 18  # the newest frame's image and depth


def test_warming_pushes_nothing_out_and_drops_frames_that_left(tmp_path, publish):
    buffer = FrameBuffer(keyframe_hz=2.0, history_s=5.0, max_memory_mb=100.0)
    publish(buffer, "front", 0.0, 50, 10.0)
    cache = SnapshotCache(max_mb=4.5 * (128 + 6 * 8 * 3) / 2**20)
    assert warm_snapshot_cache(buffer, cache) == 4 and cache.entries == 4
    old = names(cache.directory)
    assert warm_snapshot_cache(buffer, cache) == 0 and names(cache.directory) == old
    publish(buffer, "front", 5.0, 100, 10.0)  # every old frame aged out
    assert warm_snapshot_cache(buffer, cache) == 4
    assert not old & names(cache.directory) and cache.bytes <= cache.max_bytes


def test_the_buffers_own_cache_warms_in_the_background_after_a_snapshot(tmp_path, buffer, publish):
    publish(buffer, "front", 0.0, 10, 10.0)
    write_snapshot(buffer, tmp_path / "a", None, 10.0, 32)
    cache = snapshot_cache(buffer)
    assert cache.warm_period_s is not None and cache.max_bytes == 2 * 100 * 2**20
    publish(buffer, "front", 1.0, 30, 10.0)  # four more key frames, and a newest one
    # Settled: the warmer ran a whole round (stale entries dropped, new key frames placed) with no change.
    deadline, settled = time.monotonic() + 10.0, 2.5 * cache.warm_period_s
    seen, since = cache.entries, time.monotonic()
    while time.monotonic() < deadline and (cache.entries < 1 + 4 + 2 or time.monotonic() - since < settled):
        if cache.entries != seen:
            seen, since = cache.entries, time.monotonic()
        time.sleep(0.05)
    index = write_snapshot(buffer, tmp_path / "b", None, 10.0, 32)
    assert len(index.frames) == 9 and index.arrays_decoded == 1  # the newest frame only
