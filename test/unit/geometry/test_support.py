"""The surface an upright object stands on, and its box lowered onto it."""

import numpy as np
import pytest

from spatialclaw_ros import geometry as geo


def _layer(z: float, half_m: float = 0.5, step_m: float = 0.02, centre=(0.0, 0.0)) -> np.ndarray:
    xs, ys = np.meshgrid(np.arange(-half_m, half_m + 1e-9, step_m), np.arange(-half_m, half_m + 1e-9, step_m))
    return np.column_stack([xs.ravel() + centre[0], ys.ravel() + centre[1], np.full(xs.size, z)])


@pytest.fixture
def vase() -> geo.Box3D:
    """A 0.2 m box whose lowest seen point is 0.81 m up (it stands on a table 0.8 m high)."""
    return geo.Box3D(center=[0.0, 0.0, 0.91], size=[0.2, 0.2, 0.2])


def test_the_highest_well_filled_layer_below_is_the_support(vase):
    points = np.vstack([_layer(0.8, half_m=0.3), _layer(0.6), _layer(0.75, half_m=0.02)])
    # The table top (0.8) is the highest layer holding a third of the fullest bin's points; the few
    # points at 0.75 (a cable, say) are not, and the floor-like layer at 0.6 is lower.
    assert geo.support_height(vase, points) == pytest.approx(0.8)


def test_the_support_is_the_median_of_its_layer(vase, rng):
    table = _layer(0.8, half_m=0.2)  # all within the 0.12 m margin around the 0.2 m footprint
    table[:, 2] += 0.002 * rng.standard_normal(len(table))
    assert geo.support_height(vase, table) == pytest.approx(float(np.median(table[:, 2])))


def test_points_outside_the_margin_or_too_far_below_do_not_count(vase):
    beside = _layer(0.8, half_m=0.1, centre=(0.5, 0.0))  # 0.4 m off the footprint: beyond 0.12 m
    deep = _layer(0.5)  # 0.31 m below the bottom: beyond 0.3 m
    assert geo.support_height(vase, np.vstack([beside, deep])) is None
    assert geo.support_height(vase, deep, depth_m=0.4) == pytest.approx(0.5)
    assert geo.support_height(vase, beside, margin_m=0.5) == pytest.approx(0.8)


def test_points_at_or_above_the_bottom_are_not_a_support(vase):
    assert geo.support_height(vase, _layer(0.81)) is None


def test_fewer_than_ten_points_below_are_no_support(vase):
    assert geo.support_height(vase, _layer(0.8)[:9]) is None


def test_a_support_within_reach_takes_the_bottom_down_and_keeps_the_top():
    box = geo.Box3D(
        center=[1.0, 2.0, 0.5], size=[0.4, 0.3, 0.8], rotation=geo.rotation_about_axis([0, 0, 1], 0.7)
    )
    rested = geo.rest_on_support(box, 0.05, reach_m=0.06)
    np.testing.assert_allclose(rested.center, [1.0, 2.0, 0.475])
    np.testing.assert_allclose(rested.size, [0.4, 0.3, 0.85])
    np.testing.assert_array_equal(rested.rotation, box.rotation)


@pytest.mark.parametrize("support_z", [None, 0.0, 0.2])
def test_a_support_out_of_reach_above_the_bottom_or_missing_leaves_the_box(support_z):
    box = geo.Box3D(center=[0.0, 0.0, 0.5], size=[1.0, 1.0, 0.8])
    rested = geo.rest_on_support(box, support_z, reach_m=0.05)
    np.testing.assert_allclose(rested.center, box.center)
    np.testing.assert_allclose(rested.size, box.size)


def test_a_tilted_box_is_rejected():
    tilted = geo.Box3D(
        center=[0.0, 0.0, 0.5], size=[1.0, 1.0, 0.8], rotation=geo.rotation_about_axis([1, 0, 0], 0.3)
    )
    with pytest.raises(ValueError, match="upright"):
        geo.rest_on_support(tilted, 0.0, reach_m=0.1)
    with pytest.raises(ValueError, match="upright"):
        geo.support_height(tilted, _layer(0.0))
