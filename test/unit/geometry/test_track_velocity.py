"""A walker's velocity: the latest straight stretch of its track and the Theil–Sen slope over it."""

import numpy as np
import pytest

from spatialclaw_ros import geometry as geo


def _along_x(x) -> np.ndarray:
    return np.column_stack([x, np.zeros(len(x)), np.zeros(len(x))])


def test_the_track_is_cut_after_the_last_reversal():
    stamps = np.arange(8.0)
    centres = _along_x([0.0, 1.0, 2.0, 3.0, 2.5, 1.5, 0.5, -0.5])
    stretch = geo.latest_straight_stretch(stamps, centres)
    assert (stretch.start, stretch.stop) == (4, 8), "sample 3 may lie on either side of the turn"
    np.testing.assert_allclose(geo.theil_sen_velocity(stamps[stretch], centres[stretch]), [-1.0, 0.0, 0.0])


def test_a_turn_within_the_last_step_is_cut_off():
    """1 m/s, turning round 0.7 s into the last 1 s step: it still moves forward, by 0.4 m only."""
    stamps = np.arange(8.0)
    centres = _along_x([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 6.4])
    stretch = geo.latest_straight_stretch(stamps, centres)
    assert (stretch.start, stretch.stop) == (0, 7)
    np.testing.assert_allclose(geo.theil_sen_velocity(stamps[stretch], centres[stretch]), [1.0, 0.0, 0.0])


def test_a_turn_within_the_first_step_is_cut_off_too():
    stamps = np.arange(6.0)
    centres = _along_x([0.0, 0.3, 1.3, 2.3, 3.3, 4.3])
    assert geo.latest_straight_stretch(stamps, centres) == slice(1, 6)


def test_too_short_a_last_stretch_falls_back_to_the_one_before():
    """Reversed two samples before the end: the stretch before the turn, without its turning sample."""
    stamps = np.arange(7.0)
    centres = _along_x([0.0, 1.0, 2.0, 3.0, 4.0, 3.0, 2.0])
    stretch = geo.latest_straight_stretch(stamps, centres)
    assert stretch == slice(0, 4)
    np.testing.assert_allclose(geo.theil_sen_velocity(stamps[stretch], centres[stretch]), [1.0, 0.0, 0.0])
    assert geo.latest_straight_stretch(stamps, centres, min_samples=2) == slice(5, 7)


def test_a_right_angle_turn_is_no_reversal_unless_the_threshold_says_so():
    stamps = np.arange(5.0)
    turn = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [2.0, 1.0, 0.0], [2.0, 2.0, 0.0]])
    assert geo.latest_straight_stretch(stamps, turn) == slice(0, 5)
    # With cos 90 deg = 0 below 0.5 it is one; two samples follow it, so the stretch before it counts.
    assert geo.latest_straight_stretch(stamps, turn, reversal_cos=0.5) == slice(0, 2)


def test_vertical_motion_does_not_count():
    stamps = np.arange(5.0)
    bobbing = np.column_stack([np.arange(5.0), np.zeros(5), [0.0, 0.1, 0.0, 0.1, 0.0]])
    assert geo.latest_straight_stretch(stamps, bobbing) == slice(0, 5)


def test_a_centre_pulled_aside_does_not_tilt_the_velocity():
    """At one tick the walker is half hidden and its fitted centre lands 0.3 m off its path."""
    stamps = np.arange(0.0, 2.01, 0.25)
    centres = np.column_stack([1.0 + 0.8 * stamps, 2.0 - 0.6 * stamps, np.full(len(stamps), 0.9)])
    centres[6, :2] += [0.3, 0.2]
    np.testing.assert_allclose(geo.theil_sen_velocity(stamps, centres), [0.8, -0.6, 0.0], atol=1e-12)


def test_sample_order_does_not_matter_and_equal_stamps_are_skipped():
    stamps = np.array([2.0, 0.0, 1.0, 1.0])
    centres = _along_x([4.0, 0.0, 2.0, 2.0])
    np.testing.assert_allclose(geo.theil_sen_velocity(stamps, centres), [2.0, 0.0, 0.0])


def test_a_velocity_needs_two_distinct_stamps():
    with pytest.raises(ValueError, match="distinct stamps"):
        geo.theil_sen_velocity([1.0, 1.0], _along_x([0.0, 1.0]))
    with pytest.raises(ValueError, match="distinct stamps"):
        geo.theil_sen_velocity([1.0], _along_x([0.0]))
    with pytest.raises(ValueError, match="stamps_s"):
        geo.theil_sen_velocity([0.0, 1.0, 2.0], _along_x([0.0, 1.0]))


def test_one_or_two_samples_are_their_own_stretch():
    assert geo.latest_straight_stretch([0.0], _along_x([0.0])) == slice(0, 1)
    assert geo.latest_straight_stretch([0.0, 1.0], _along_x([0.0, 1.0])) == slice(0, 2)
