import numpy as np
import pytest

from spatialclaw_ros.frames import FrameBuffer, NoFramesError

NS = 1_000_000_000


@pytest.fixture
def buffer():
    return FrameBuffer(keyframe_hz=float("inf"), history_s=1000.0, max_memory_mb=100.0)


def test_zero_window_takes_the_latest_frame_of_each_camera(buffer, publish):
    front = publish(buffer, "front", 0.0, 10, 10.0)
    left = publish(buffer, "left", 0.05, 5, 10.0)
    frames = buffer.select(None, 0.0, 32)
    assert [(f.camera, f.stamp_ns) for f in frames] == [("left", max(left.rgb)), ("front", max(front.rgb))]


def test_window_is_measured_back_from_the_newest_stamp(buffer, publish):
    publish(buffer, "front", 0.0, 100, 10.0)
    stamps = [f.stamp_ns for f in buffer.select(["front"], 2.0, 1000)]
    assert stamps[0] == round(7.9 * NS) and stamps[-1] == round(9.9 * NS) and len(stamps) == 21


def test_max_frames_is_uniform_in_time_and_keeps_the_latest(buffer, publish):
    publish(buffer, "front", 0.0, 101, 10.0)
    stamps = np.array([f.stamp_ns for f in buffer.select(["front"], 10.0, 5)]) / NS
    np.testing.assert_allclose(stamps, [0.0, 2.5, 5.0, 7.5, 10.0], atol=0.051)
    assert stamps[-1] == pytest.approx(10.0)


def test_max_frames_is_shared_between_cameras(buffer, publish):
    publish(buffer, "front", 0.0, 50, 10.0)
    publish(buffer, "left", 0.0, 50, 10.0)
    publish(buffer, "rear", 0.0, 2, 10.0)
    frames = buffer.select(None, 10.0, 10)
    counts = {name: sum(f.camera == name for f in frames) for name in ("front", "left", "rear")}
    assert counts == {"front": 4, "left": 4, "rear": 2}
    assert [f.stamp_ns for f in frames] == sorted(f.stamp_ns for f in frames)


def test_fewer_frames_than_cameras_prefers_the_newest(buffer, publish):
    publish(buffer, "front", 0.0, 3, 10.0)
    publish(buffer, "left", 5.0, 3, 10.0)
    assert [f.camera for f in buffer.select(None, 0.0, 1)] == ["left"]


def test_only_the_requested_cameras(buffer, publish):
    publish(buffer, "front", 0.0, 3, 10.0)
    publish(buffer, "left", 0.0, 3, 10.0)
    assert {f.camera for f in buffer.select(["left", "ghost"], 10.0, 32)} == {"left"}


def test_no_frames_names_the_cameras(buffer, publish):
    publish(buffer, "front", 0.0, 3, 10.0)
    with pytest.raises(NoFramesError, match="'rear'") as caught:
        buffer.select(["rear"], 5.0, 4)
    assert caught.value.cameras == ("rear",) and caught.value.window_s == 5.0
    assert "front" in str(caught.value)


def test_empty_buffer_raises_no_frames(buffer):
    with pytest.raises(NoFramesError):
        buffer.select(None, 0.0, 4)


@pytest.mark.parametrize(("window_s", "max_frames"), [(-1.0, 4), (1.0, 0)])
def test_bad_arguments(buffer, publish, window_s, max_frames):
    publish(buffer, "front", 0.0, 3, 10.0)
    with pytest.raises(ValueError):
        buffer.select(None, window_s, max_frames)
