"""Least-squares circles that shed outliers: an upright cylinder's footprint."""

import numpy as np
import pytest

from spatialclaw_ros import geometry as geo


def _arc(centre, radius, start_rad, stop_rad, n=100) -> np.ndarray:
    angles = np.linspace(start_rad, stop_rad, n)
    return np.asarray(centre) + radius * np.column_stack([np.cos(angles), np.sin(angles)])


def test_half_a_circle_gives_its_centre_and_radius():
    circle = geo.fit_circle(_arc([-1.5, 3.0], 0.3, -np.pi / 2, np.pi / 2))
    np.testing.assert_allclose(circle.centre, [-1.5, 3.0], atol=1e-12)
    assert circle.radius_m == pytest.approx(0.3, abs=1e-12)
    assert circle.residual_m == pytest.approx(0.0, abs=1e-12)


def test_outliers_are_shed_and_count_only_in_the_residual():
    points = np.vstack([_arc([0.0, 0.0], 1.0, 0.0, np.pi, n=90), [[0.0, 0.3], [0.2, 0.1], [-0.4, 0.2]]])
    circle = geo.fit_circle(points)
    np.testing.assert_allclose(circle.centre, [0.0, 0.0], atol=1e-9)
    assert circle.radius_m == pytest.approx(1.0, abs=1e-9)
    assert circle.residual_m == pytest.approx(0.0, abs=1e-9)


def test_noise_leaves_the_radius_within_its_scale(rng):
    points = _arc([2.0, 1.0], 0.25, 0.0, 2.0 * np.pi, n=2000) + 0.002 * rng.standard_normal((2000, 2))
    circle = geo.fit_circle(points)
    assert circle.radius_m == pytest.approx(0.25, abs=5e-4)
    np.testing.assert_allclose(circle.centre, [2.0, 1.0], atol=5e-4)
    # The median distance of normal noise from the circle: 0.6745 sigma.
    assert circle.residual_m == pytest.approx(0.6745 * 0.002, rel=0.15)


def test_a_slightly_bent_row_fits_a_circle_far_wider_than_it_is():
    """0.48 m of a 10 m circle (2.9 mm deep): a perfect fit, which only the radius tells from a cylinder."""
    circle = geo.fit_circle(_arc([-7.0, 0.0], 10.0, -0.024, 0.024, n=60))
    assert circle.radius_m == pytest.approx(10.0, rel=1e-6)
    assert circle.residual_m < 1e-6


def test_fewer_than_three_points_or_another_shape_are_rejected():
    with pytest.raises(ValueError, match="xy"):
        geo.fit_circle([[0.0, 0.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="xy"):
        geo.fit_circle(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="finite"):
        geo.fit_circle([[0.0, 0.0], [1.0, 0.0], [np.nan, 1.0]])
