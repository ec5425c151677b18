"""Per-pixel median of depth over time, its robust spread and the median's uncertainty."""

import numpy as np
import pytest

from spatialclaw_ros import geometry as geo


def test_odd_and_even_counts_give_the_middle_sample_or_the_mean_of_the_middle_two():
    stack = np.array([[4.0, 1.0], [1.0, 2.0], [2.0, 7.0], [9.0, np.nan], [3.0, np.nan]])
    stats = geo.median_over_time(stack)
    assert stats.median.tolist() == [3.0, 2.0]
    assert stats.count.tolist() == [5, 3]
    # |x - 3| = 1, 2, 1, 6, 0 -> MAD 1; |x - 2| = 1, 0, 5 -> MAD 1.
    np.testing.assert_allclose(stats.spread, [1.4826, 1.4826])
    np.testing.assert_allclose(stats.sigma, [1.25 * 1.4826 / np.sqrt(5), 1.25 * 1.4826 / np.sqrt(3)])


def test_nan_and_inf_samples_are_missing_on_either_side():
    stack = np.array([[-np.inf, 2.0], [1.0, np.inf], [3.0, np.nan], [np.nan, 4.0]])
    stats = geo.median_over_time(stack)
    assert stats.median.tolist() == [2.0, 3.0]
    assert stats.count.tolist() == [2, 2]
    np.testing.assert_allclose(stats.spread, [1.4826, 1.4826])


def test_a_pixel_without_any_sample_has_a_nan_median_and_no_spread():
    stats = geo.median_over_time(np.array([[np.nan, 1.0], [np.nan, 1.0]]))
    assert np.isnan(stats.median[0]) and stats.median[1] == 1.0
    assert stats.spread.tolist() == [0.0, 0.0]
    assert stats.sigma.tolist() == [0.0, 0.0]
    assert stats.count.tolist() == [0, 2]


def test_one_frame_is_its_own_median_with_no_uncertainty():
    depth = np.array([[1.5, np.nan], [2.25, 0.75]])
    stats = geo.median_over_time(depth[None])
    np.testing.assert_array_equal(stats.median, depth)
    assert not stats.sigma.any()


def test_a_passer_by_in_two_of_seven_frames_does_not_move_the_median():
    wall = np.full((7, 4, 5), 3.0)
    wall[[2, 5], 1:3, 1:4] = 1.2
    stats = geo.median_over_time(wall)
    assert np.all(stats.median == 3.0)


def test_the_spread_estimates_the_noise_sigma_and_the_sigma_that_of_the_median(rng):
    samples = 2.0 + 0.01 * rng.standard_normal((51, 100, 100))
    stats = geo.median_over_time(samples)
    assert float(np.mean(stats.spread)) == pytest.approx(0.01, rel=0.03)
    # The medians themselves scatter as the sigma says.
    assert float(np.std(stats.median)) == pytest.approx(float(np.mean(stats.sigma)), rel=0.05)


def test_an_empty_stack_is_rejected():
    with pytest.raises(ValueError, match="stack"):
        geo.median_over_time(np.zeros((0, 3, 3)))
    with pytest.raises(ValueError, match="stack"):
        geo.median_over_time(2.0)
