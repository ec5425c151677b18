import numpy as np
import pytest

from spatialclaw_ros import geometry as geo


def test_constant_velocity_gives_exact_speed_and_heading():
    stamps = np.arange(0.0, 10.5, 0.5)
    velocity = np.array([0.3, -0.4, 0.0])  # 0.5 m/s towards -y (right) and +x
    positions = np.array([1.0, 2.0, 0.0]) + stamps[:, None] * velocity
    m = geo.summarize_motion(stamps, positions, up=geo.UP_BODY, forward=geo.FORWARD_BODY)
    assert m.duration_s == 10.0
    assert m.mean_speed_mps == pytest.approx(0.5)
    assert m.distance_m == pytest.approx(5.0)
    assert m.path_length_m == pytest.approx(5.0)
    np.testing.assert_allclose(m.mean_velocity, velocity)
    assert m.heading_rad == pytest.approx(np.arctan2(-0.4, 0.3))


def test_heading_in_the_optical_frame_counts_towards_the_cameras_left():
    # Walking to the camera's left (-x in the optical frame) is +90 degrees.
    assert geo.heading([-1.0, 0.0, 0.0], geo.UP_OPTICAL, geo.FORWARD_OPTICAL) == pytest.approx(np.pi / 2)
    assert geo.heading([0.0, 0.0, 1.0], geo.UP_OPTICAL, geo.FORWARD_OPTICAL) == pytest.approx(0.0)


def test_unsorted_samples_are_sorted_by_stamp():
    m = geo.summarize_motion(
        [2.0, 0.0, 1.0], [[2, 0, 0], [0, 0, 0], [1, 0, 0]], up=geo.UP_BODY, forward=geo.FORWARD_BODY
    )
    assert m.displacement.tolist() == [2.0, 0.0, 0.0]


def test_vertical_motion_has_no_heading():
    m = geo.summarize_motion([0, 1], [[0, 0, 0], [0, 0, 1]], up=geo.UP_BODY, forward=geo.FORWARD_BODY)
    assert np.isnan(m.heading_rad)


def test_duplicate_stamps_are_rejected():
    with pytest.raises(ValueError, match="distinct"):
        geo.summarize_motion([0, 0], [[0, 0, 0], [1, 0, 0]], up=geo.UP_BODY, forward=geo.FORWARD_BODY)


def test_forward_parallel_to_up_is_rejected():
    with pytest.raises(ValueError, match="forward"):
        geo.heading([1, 0, 0], up=[0, 0, 1], forward=[0, 0, 2])
