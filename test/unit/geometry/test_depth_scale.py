import numpy as np
import pytest

from spatialclaw_ros import geometry as geo


def test_median_ratio_recovers_the_scale_despite_holes_and_outliers(rng):
    relative = rng.uniform(0.1, 1.0, size=(40, 50))
    metric = 3.5 * relative
    metric[:5] = np.nan  # sensor holes
    metric[5:8] = 0.0  # invalid readings
    metric[8:10] *= 4.0  # reflections: 100 of 1600 valid pixels wrong
    assert geo.median_depth_scale(relative, metric) == pytest.approx(3.5)


def test_mask_restricts_the_pixels():
    relative = np.ones((2, 2))
    metric = np.array([[2.0, 2.0], [9.0, 9.0]])
    assert geo.median_depth_scale(relative, metric, mask=[[0, 0], [1, 1]]) == 9.0


def test_no_valid_pixel_is_an_error():
    with pytest.raises(ValueError, match="no pixel"):
        geo.median_depth_scale(np.ones((2, 2)), np.full((2, 2), np.nan))


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="metric_depth_m"):
        geo.median_depth_scale(np.ones((2, 2)), np.ones((2, 3)))
