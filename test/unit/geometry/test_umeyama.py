import numpy as np
import pytest

from spatialclaw_ros import geometry as geo


def test_recovers_a_known_similarity(rng):
    src = rng.normal(size=(30, 3))
    R = geo.rotation_from_rpy(0.3, -1.2, 2.4)
    dst = 0.37 * src @ R.T + [1.0, -2.0, 0.5]
    fit = geo.umeyama(src, dst)
    assert fit.scale == pytest.approx(0.37)
    np.testing.assert_allclose(fit.rotation, R, atol=1e-12)
    np.testing.assert_allclose(fit.translation, [1.0, -2.0, 0.5], atol=1e-12)
    assert fit.rms_m < 1e-12
    np.testing.assert_allclose(fit.apply(src), dst, atol=1e-12)
    np.testing.assert_allclose(geo.transform_points(np.eye(4), fit.apply(src[0])), dst[0], atol=1e-12)


def test_rigid_mode_fixes_the_scale(rng):
    src = rng.normal(size=(10, 3))
    fit = geo.umeyama(src, 2.0 * src, with_scale=False)
    assert fit.scale == 1.0
    assert fit.rms_m > 0.5


def test_reflection_is_never_returned(rng):
    src = rng.normal(size=(10, 3))
    mirrored = src * [1.0, 1.0, -1.0]
    assert np.linalg.det(geo.umeyama(src, mirrored).rotation) == pytest.approx(1.0)


def test_residual_reports_noise(rng):
    src = rng.normal(size=(500, 3))
    noise = rng.normal(0, 0.01, size=(500, 3))
    assert geo.umeyama(src, src + noise).rms_m == pytest.approx(0.01 * np.sqrt(3), rel=0.1)


def test_collinear_points_are_rejected():
    line = np.outer(np.arange(5.0), [1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="collinear"):
        geo.umeyama(line, line)
