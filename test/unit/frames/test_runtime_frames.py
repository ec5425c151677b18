import json

import numpy as np
import pytest

from spatialclaw_ros.frames import FrameBuffer, PoseTrack, TopicPoseSource, write_snapshot
from spatialclaw_ros.runtime.frames import Frame, Frames, SnapshotError, load_frames

NS = 1_000_000_000


@pytest.fixture
def snapshot(tmp_path, publish):
    """Two cameras (front with depth), 2 s, with poses from a pose topic."""
    buffer = FrameBuffer(keyframe_hz=2.0, history_s=100.0, max_memory_mb=100.0)
    sent = publish(buffer, "front", 10.0, 20, 10.0, with_depth=True)
    left = publish(buffer, "left", 10.05, 20, 10.0)
    sent.rgb.update(left.rgb)
    track = PoseTrack(history_s=100.0)
    for i in range(40):
        track.add(int((9.5 + 0.1 * i) * NS), [0.1 * i, 0.0, 0.0], [0, 0, 0, 1], "odom")
    buffer.pose_source = TopicPoseSource(track, {})
    write_snapshot(buffer, tmp_path / "snap", None, 5.0, 32)
    return tmp_path / "snap", sent


def test_frames_are_time_ordered_with_the_pinned_attributes(snapshot):
    directory, sent = snapshot
    frames = load_frames(directory)
    assert isinstance(frames, Frames) and len(frames) == 10
    assert [f.stamp for f in frames] == sorted(f.stamp for f in frames)
    frame = frames[0]
    assert isinstance(frame, Frame) and frame.index == 0 and frame.camera == "front"
    assert isinstance(frame.stamp, float) and frame.stamp == pytest.approx(10.0)
    assert frame.image.shape == (6, 8, 3) and frame.image.dtype == np.uint8
    assert frame.depth.shape == (6, 8) and frame.depth.dtype == np.float32
    assert frame.K.shape == (3, 3) and frame.T_world_camera.shape == (4, 4)
    assert (frame.frame_id, frame.world_frame) == ("front_optical", "odom")
    for f in frames:
        assert np.array_equal(f.image, sent.rgb[round(f.stamp * NS)])


def test_arrays_are_memory_mapped_read_only(snapshot):
    frame = load_frames(snapshot[0])[0]
    assert isinstance(frame.image, np.memmap) and not frame.image.flags.writeable
    assert not frame.depth.flags.writeable  # millimetres on disk: converted once, not mapped
    with pytest.raises(ValueError):
        frame.K[0, 0] = 1.0


def test_camera_without_depth_gives_none(snapshot):
    assert all(frame.depth is None for frame in load_frames(snapshot[0]).by_camera("left"))


def test_cameras_by_camera_between_and_slicing(snapshot):
    frames = load_frames(snapshot[0])
    assert frames.cameras == ["front", "left"]
    assert {f.camera for f in frames.by_camera("left")} == {"left"}
    window = frames.between(10.0, 10.5)
    assert [round(f.stamp, 2) for f in window] == [10.0, 10.05, 10.5]
    assert isinstance(frames[2:5], Frames) and len(frames[2:5]) == 3 and frames[-1] is frames[len(frames) - 1]
    assert frames.between(0.0, 1.0).cameras == []


def test_unknown_camera_and_reversed_interval_are_clear_errors(snapshot):
    frames = load_frames(snapshot[0])
    with pytest.raises(KeyError, match="cameras: \\['front', 'left'\\]"):
        frames.by_camera("rear")
    with pytest.raises(ValueError, match="t0 <= t1"):
        frames.between(2.0, 1.0)


def test_repr_summarises_for_the_model(snapshot):
    frames = load_frames(snapshot[0])
    text = repr(frames)
    assert text.startswith("Frames(10 frames; cameras {front: 5, left: 5}")
    assert "depth 5/10" in text and "T_world_camera 10/10" in text and "world_frame 'odom'" in text
    assert "image=6×8×3 uint8 RGB" in repr(frames[0]) and "camera at [0.500, 0.000, 0.000] m" in repr(
        frames[0]
    )


def test_long_repr_elides_the_middle(tmp_path, publish):
    buffer = FrameBuffer(keyframe_hz=float("inf"), history_s=100.0, max_memory_mb=100.0)
    publish(buffer, "front", 0.0, 30, 10.0)
    write_snapshot(buffer, tmp_path / "s", None, 10.0, 30)
    lines = repr(load_frames(tmp_path / "s")).splitlines()
    assert len(lines) == 1 + 8 + 1 + 4 and "18 more" in lines[9] and lines[-1].startswith("  [29]")


def test_arrays_open_only_when_used(snapshot):
    directory, _ = snapshot
    frames = load_frames(directory)
    (directory / "images" / "0001.npy").unlink()
    assert frames[0].image is not None
    with pytest.raises(SnapshotError, match="frame 1"):
        frames[1].image  # noqa: B018


def test_missing_index_is_a_snapshot_error(tmp_path):
    with pytest.raises(SnapshotError, match=r"index\.json"):
        load_frames(tmp_path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 99}, "version"),
        ({"format": "other"}, "not a"),
        ({"frames": [{"index": 0}]}, "malformed"),
    ],
)
def test_bad_index_is_a_snapshot_error(tmp_path, change, message):
    (tmp_path / "index.json").write_text(
        json.dumps({"format": "spatialclaw-snapshot", "version": 1, **change})
    )
    with pytest.raises(SnapshotError, match=message):
        load_frames(tmp_path)


def test_paths_cannot_leave_the_snapshot(tmp_path):
    record = {"index": 0, "camera": "c", "stamp_ns": 0, "frame_id": "f", "width": 1, "height": 1}
    document = {"format": "spatialclaw-snapshot", "version": 1, "frames": [{**record, "image": "../x.npy"}]}
    (tmp_path / "index.json").write_text(json.dumps(document))
    with pytest.raises(SnapshotError, match="leaves"):
        load_frames(tmp_path)
