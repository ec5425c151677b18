import numpy as np
import pytest

from spatialclaw_ros import geometry as geo


def test_median_smoothing_removes_a_single_frame_jump():
    stamps = np.arange(11.0)
    positions = np.stack([stamps, np.zeros(11), np.zeros(11)], axis=1)
    positions[5] = [5.0, 3.0, 0.0]  # one bad detection
    raw = geo.summarize_motion(stamps, positions, up=geo.UP_BODY, forward=geo.FORWARD_BODY)
    smooth = geo.summarize_motion(
        stamps, positions, up=geo.UP_BODY, forward=geo.FORWARD_BODY, smoothing_window=3
    )
    assert raw.path_length_m == pytest.approx(8.0 + 2 * np.hypot(1.0, 3.0))
    assert smooth.path_length_m == pytest.approx(10.0)
    assert smooth.mean_speed_mps == pytest.approx(1.0)


def test_smoothing_keeps_a_straight_track_unchanged():
    positions = np.outer(np.arange(7.0), [1.0, 2.0, 0.5])
    np.testing.assert_array_equal(geo.smooth_positions(positions, window=5), positions)


def test_even_window_is_rejected():
    with pytest.raises(ValueError, match="window"):
        geo.smooth_positions([[0, 0, 0], [1, 1, 1]], window=2)
