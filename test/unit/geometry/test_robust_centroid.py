import numpy as np
import pytest

from spatialclaw_ros import geometry as geo


def test_median_ignores_a_far_outlier():
    points = [[1.0, 2.0, 3.0]] * 5 + [[100.0, -50.0, 900.0]] * 2
    assert geo.robust_centroid(points).tolist() == [1.0, 2.0, 3.0]


def test_trimmed_mean_drops_the_tails():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 1000.0])
    points = np.stack([x, x, x], axis=1)
    # 10 % trim of 10 values drops one at each end: mean of 1..8 = 4.5.
    assert geo.robust_centroid(points, method="trimmed_mean", trim_fraction=0.1).tolist() == [4.5] * 3


def test_mean_is_plain_mean():
    assert geo.robust_centroid([[0, 0, 0], [2, 4, 6]], method="mean").tolist() == [1.0, 2.0, 3.0]


def test_unknown_method_is_rejected():
    with pytest.raises(ValueError, match="method"):
        geo.robust_centroid([[0, 0, 0]], method="mode")
