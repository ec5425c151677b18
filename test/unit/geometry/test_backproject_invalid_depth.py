import numpy as np

from spatialclaw_ros import geometry as geo


def test_nan_inf_zero_and_negative_depth_are_skipped(K):
    depth = np.array([[np.nan, np.inf, 0.0], [-1.0, 2.0, -np.inf]])
    points = geo.backproject(depth, K)
    assert points.shape == (1, 3)
    assert points[0, 2] == 2.0


def test_mask_selects_pixels(K):
    depth = np.ones((4, 5))
    mask = np.zeros((4, 5), dtype=bool)
    mask[1, 2] = mask[3, 4] = True
    assert geo.backproject(depth, K, mask=mask).shape == (2, 3)


def test_numeric_mask_counts_non_zero(K):
    depth = np.ones((2, 2))
    assert geo.backproject(depth, K, mask=np.array([[0, 255], [0, 1]], dtype=np.uint8)).shape == (2, 3)


def test_stride_keeps_every_nth_row_and_column_from_the_origin(K):
    depth = np.ones((5, 7))
    points = geo.backproject(depth, K, stride=3)
    pixels = geo.project(points, K)
    np.testing.assert_allclose(pixels, [[0, 0], [3, 0], [6, 0], [0, 3], [3, 3], [6, 3]], atol=1e-9)


def test_float32_depth_is_accepted(K):
    depth = np.full((3, 3), 1.5, dtype=np.float32)
    assert geo.backproject(depth, K).dtype == np.float64
