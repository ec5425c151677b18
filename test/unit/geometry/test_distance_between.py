import numpy as np
import pytest

from spatialclaw_ros import geometry as geo


def _cube(center, half, n=6):
    g = np.linspace(-half, half, n)
    return np.stack(np.meshgrid(g, g, g), axis=-1).reshape(-1, 3) + center


def test_centroid_distance_between_two_cubes():
    d = geo.distance_between(_cube([0, 0, 0], 0.5), _cube([3, 4, 0], 0.5))
    assert d.value_m == pytest.approx(5.0)
    np.testing.assert_allclose(d.point_b, [3, 4, 0], atol=1e-12)


def test_closest_distance_is_the_gap_between_surfaces():
    d = geo.distance_between(_cube([0, 0, 0], 0.5), _cube([3, 0, 0], 0.5), method="closest")
    assert d.value_m == pytest.approx(2.0)
    assert d.point_a[0] == pytest.approx(0.5)
    assert d.point_b[0] == pytest.approx(2.5)


def test_single_points_are_accepted():
    value_m, a, b = geo.distance_between([0.0, 0.0, 0.0], [0.0, 0.0, 2.0])
    assert (value_m, a.tolist(), b.tolist()) == (2.0, [0.0, 0.0, 0.0], [0.0, 0.0, 2.0])


def test_unknown_method_is_rejected():
    with pytest.raises(ValueError, match="method"):
        geo.distance_between([0, 0, 0], [1, 1, 1], method="hausdorff")
