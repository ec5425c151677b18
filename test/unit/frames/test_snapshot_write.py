import json

import numpy as np
import pytest

from spatialclaw_ros.frames import (
    FrameBuffer,
    NoFramesError,
    PoseTrack,
    TopicPoseSource,
    depth_to_compressed,
    numpy_to_image,
    pose_matrix,
    rgb_to_compressed,
    write_snapshot,
)
from spatialclaw_ros.protocol.snapshot import depth_metres
from spatialclaw_ros.runtime.frames import load_frames

NS = 1_000_000_000


@pytest.fixture
def buffer():
    return FrameBuffer(keyframe_hz=2.0, history_s=100.0, max_memory_mb=100.0)


def test_pixels_and_depth_equal_what_was_published(tmp_path, buffer, publish):
    sent = publish(buffer, "front", 0.0, 40, 10.0, with_depth=True)
    index = write_snapshot(buffer, tmp_path / "q", None, 10.0, 32)
    assert index.errors == () and len(index.frames) == 9
    for frame in index.frames:
        assert np.array_equal(np.load(tmp_path / "q" / frame.image), sent.rgb[frame.stamp_ns])
        depth = depth_metres(np.load(tmp_path / "q" / frame.depth), frame.depth_unit_m)
        np.testing.assert_allclose(depth, sent.depth_m[frame.stamp_ns], rtol=1e-7)
        assert frame.depth_registration == "aligned"


def test_index_records_intrinsics_and_stamps(tmp_path, buffer, publish):
    publish(buffer, "front", 3.0, 5, 10.0, size=(6, 8))
    index = write_snapshot(buffer, tmp_path / "q", ["front"], 0.0, 4)
    document = json.loads((tmp_path / "q" / "index.json").read_text())
    (record,) = document["frames"]
    assert record["stamp_ns"] == index.frames[0].stamp_ns == round(3.4 * NS)
    assert record["K"] == [[50.0, 0.0, 3.5], [0.0, 50.0, 2.5], [0.0, 0.0, 1.0]]
    assert (record["width"], record["height"], record["frame_id"]) == (8, 6, "front_optical")


def test_poses_from_a_pose_topic(tmp_path, buffer, publish):
    publish(buffer, "front", 0.0, 20, 10.0)
    track = PoseTrack(history_s=100.0)
    for i in range(30):
        track.add(i * NS // 10, [0.1 * i, 0.0, 0.0], [0, 0, 0, 1], "odom")
    T_body_camera = pose_matrix([0.0, 0.0, 1.0], [-0.5, 0.5, -0.5, 0.5])
    buffer.pose_source = TopicPoseSource(track, {"front": T_body_camera})
    index = write_snapshot(buffer, tmp_path / "q", None, 10.0, 32)
    assert index.world_frame == "odom" and index.errors == ()
    for frame in index.frames:
        expected = pose_matrix([frame.stamp_ns / NS, 0, 0], [0, 0, 0, 1]) @ T_body_camera
        np.testing.assert_allclose(frame.T_world_camera, expected, atol=1e-9)


def test_without_poses_the_first_camera_is_the_world(tmp_path, buffer, publish):
    publish(buffer, "front", 0.0, 20, 10.0)
    index = write_snapshot(buffer, tmp_path / "q", None, 10.0, 3, target_frame="map")
    assert index.world_frame == "front_optical"
    np.testing.assert_array_equal(index.frames[0].T_world_camera, np.eye(4))
    assert all(frame.T_world_camera is None for frame in index.frames[1:])
    assert any("no camera pose in 'map'" in error for error in index.errors)


def test_missing_pose_is_reported_per_frame(tmp_path, buffer, publish):
    publish(buffer, "front", 0.0, 20, 10.0)
    track = PoseTrack(history_s=100.0)
    track.add(int(1.9 * NS), [0, 0, 0], [0, 0, 0, 1], "odom")
    buffer.pose_source = TopicPoseSource(track, {})
    index = write_snapshot(buffer, tmp_path / "q", None, 10.0, 32)
    assert [f.T_world_camera is not None for f in index.frames] == [False] * 4 + [True]
    assert sum("no pose" in error for error in index.errors) == 4


def test_compressed_colour_and_depth(tmp_path, buffer, msgs, rng):
    rgb = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    depth_m = np.round(rng.uniform(0.5, 4.0, (6, 8)), 3).astype(np.float32)
    buffer.set_camera_info("cam", msgs.camera_info(8, 6))
    buffer.add_image(
        "cam", msgs.cdr_compressed(msgs.compressed(rgb_to_compressed(rgb, "png"), NS)), compressed=True
    )
    buffer.add_depth(
        "cam", msgs.cdr_compressed(msgs.compressed(depth_to_compressed(depth_m), NS)), compressed=True
    )
    index = write_snapshot(buffer, tmp_path / "q")
    (frame,) = load_frames(tmp_path / "q")
    assert index.errors == () and np.array_equal(frame.image, rgb)
    np.testing.assert_allclose(frame.depth, depth_m, rtol=1e-6)


def test_undecodable_frame_is_skipped_and_reported(tmp_path, msgs, rng):
    buffer = FrameBuffer(keyframe_hz=float("inf"), history_s=100.0, max_memory_mb=100.0)
    good = rgb_to_compressed(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), "png")
    buffer.add_image("cam", msgs.compressed(good, NS), compressed=True)
    bad = msgs.CompressedImage(msgs.header(2 * NS, "cam_optical"), "png", b"\x89PNG broken")
    buffer.add_image("cam", bad, compressed=True)
    index = write_snapshot(buffer, tmp_path / "q", None, 10.0, 8)
    assert [f.stamp_ns for f in index.frames] == [NS]
    assert any("'cam'" in error and "data" in error for error in index.errors)


def test_nothing_decodable_raises_no_frames(tmp_path, msgs):
    buffer = FrameBuffer(keyframe_hz=1.0, history_s=100.0, max_memory_mb=100.0)
    buffer.add_image("cam", msgs.CompressedImage(msgs.header(NS, "c"), "jpeg", b"junk"), compressed=True)
    with pytest.raises(NoFramesError, match="decoded"):
        write_snapshot(buffer, tmp_path / "q")


def test_missing_camera_info_leaves_k_unknown(tmp_path, msgs, rng):
    buffer = FrameBuffer(keyframe_hz=1.0, history_s=100.0, max_memory_mb=100.0)
    buffer.add_image(
        "cam", msgs.image(numpy_to_image(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), "rgb8"), NS)
    )
    index = write_snapshot(buffer, tmp_path / "q")
    assert index.frames[0].K is None and any("CameraInfo" in error for error in index.errors)


def test_files_are_read_only_and_written_once(tmp_path, buffer, publish):
    publish(buffer, "front", 0.0, 5, 10.0, with_depth=True)
    index = write_snapshot(buffer, tmp_path / "q")
    for frame in index.frames:
        assert (tmp_path / "q" / frame.image).stat().st_mode & 0o222 == 0
    with pytest.raises(FileExistsError):
        write_snapshot(buffer, tmp_path / "q")


def test_raw_millimetre_depth_is_written_as_sent_and_read_as_metres(tmp_path, msgs):
    depth_mm = np.array([[0, 1000, 1234], [65535, 1, 0]], np.uint16)
    buffer = FrameBuffer(keyframe_hz=float("inf"), history_s=60.0, max_memory_mb=64.0)
    buffer.configure_camera("cam")
    buffer.set_camera_info("cam", msgs.camera_info(3, 2))
    buffer.add_image("cam", msgs.image(numpy_to_image(np.zeros((2, 3, 3), np.uint8), "rgb8"), 1))
    buffer.add_depth("cam", msgs.image(numpy_to_image(depth_mm, "16UC1"), 1))
    index = write_snapshot(buffer, tmp_path / "q")
    (frame,) = index.frames
    stored = np.load(tmp_path / "q" / frame.depth)
    assert stored.dtype == np.uint16 and np.array_equal(stored, depth_mm)
    assert frame.depth_unit_m == 0.001 and frame.depth_registration == "aligned"
    (kernel_frame,) = load_frames(tmp_path / "q")
    depth = kernel_frame.depth
    assert depth.dtype == np.float32 and not depth.flags.writeable
    expected = np.array([[np.nan, 1.0, 1.234], [65.535, 0.001, np.nan]], np.float32)
    np.testing.assert_array_equal(depth, expected)
    assert kernel_frame.depth is depth  # converted once
