import numpy as np
import pytest

from spatialclaw_ros import geometry as geo


def _room(rng, camera_height_m=1.4):
    # Optical frame of a level camera: floor at y = +camera_height_m, a bigger wall at z = 4 that
    # stops 0.1 m above the floor (points of the junction would tilt the least-squares refinement).
    floor = np.stack(
        [rng.uniform(-2, 2, 300), np.full(300, camera_height_m), rng.uniform(0.5, 4, 300)], axis=1
    )
    wall = np.stack(
        [rng.uniform(-3, 3, 600), rng.uniform(-2, camera_height_m - 0.1, 600), np.full(600, 4.0)], axis=1
    )
    return np.vstack([floor, wall])


def test_floor_wins_over_a_larger_wall(rng):
    fit = geo.estimate_floor(_room(rng), up_hint=geo.UP_OPTICAL)
    np.testing.assert_allclose(fit.normal, [0, -1, 0], atol=1e-9)
    assert fit.d == pytest.approx(1.4)


def test_camera_height_is_the_height_of_the_origin(rng):
    fit = geo.estimate_floor(_room(rng, 0.9), up_hint=geo.UP_OPTICAL)
    assert geo.height_above_plane([0.0, 0.0, 0.0], fit.normal, fit.d) == pytest.approx(0.9)


def test_tilted_camera_up_is_recovered(rng):
    # Camera pitched down by 20 degrees: true up in the optical frame turns about x.
    R = geo.rotation_about_axis([1, 0, 0], np.deg2rad(20))
    fit = geo.estimate_floor(_room(rng) @ R.T, up_hint=geo.UP_OPTICAL)
    np.testing.assert_allclose(fit.normal, R @ [0, -1, 0], atol=1e-9)


def test_no_plane_near_the_hint_is_an_error(rng):
    wall = np.stack([rng.uniform(-3, 3, 100), rng.uniform(-2, 2, 100), np.full(100, 4.0)], axis=1)
    with pytest.raises(ValueError, match="no usable plane"):
        geo.estimate_floor(wall, up_hint=geo.UP_OPTICAL)
