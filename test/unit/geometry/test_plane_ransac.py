import numpy as np
import pytest

from spatialclaw_ros import geometry as geo


def _plane_with_outliers(rng, normal, d, n_in=400, n_out=200, noise=0.002):
    normal = np.asarray(normal, float) / np.linalg.norm(normal)
    e1 = np.cross(normal, [1.0, 0.0, 0.0] if abs(normal[0]) < 0.9 else [0.0, 1.0, 0.0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(normal, e1)
    uv = rng.uniform(-2, 2, size=(n_in, 2))
    inliers = uv[:, :1] * e1 + uv[:, 1:] * e2 - d * normal + rng.normal(0, noise, size=(n_in, 1)) * normal
    outliers = rng.uniform(-2, 2, size=(n_out, 3)) + 0.5 * normal
    return np.vstack([inliers, outliers]), normal


def test_known_plane_is_recovered_despite_outliers(rng):
    points, normal = _plane_with_outliers(rng, [0.2, -1.0, 0.1], 1.3)
    fit = geo.fit_plane_ransac(points, threshold_m=0.01, up_hint=normal)
    np.testing.assert_allclose(fit.normal, normal, atol=2e-3)
    assert fit.d == pytest.approx(1.3, abs=2e-3)
    assert fit.inliers[:400].mean() > 0.99
    assert fit.inliers[400:].mean() < 0.05


def test_same_seed_gives_the_same_fit(rng):
    points, _ = _plane_with_outliers(rng, [0, 0, 1], 0.5)
    a = geo.fit_plane_ransac(points, rng=3)
    b = geo.fit_plane_ransac(points, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a.normal, b.normal)
    np.testing.assert_array_equal(a.inliers, b.inliers)


def test_without_hint_the_normal_faces_the_origin():
    xs, ys = np.meshgrid(np.arange(4.0), np.arange(4.0))
    floor_below_camera = np.stack([xs.ravel(), np.full(16, 1.2), ys.ravel()], axis=1)
    fit = geo.fit_plane_ransac(floor_below_camera)
    np.testing.assert_allclose(fit.normal, [0, -1, 0], atol=1e-12)
    assert fit.d == pytest.approx(1.2)


def test_collinear_points_are_rejected():
    with pytest.raises(ValueError, match="no usable plane"):
        geo.fit_plane_ransac([[0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0]])


def test_height_above_plane_is_signed():
    heights = geo.height_above_plane([[0, 0, 3.0], [0, 0, -1.0]], normal=[0, 0, 2.0], d=-2.0)
    np.testing.assert_allclose(heights, [2.0, -2.0])
