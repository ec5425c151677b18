"""Upright boxes and cylinders fitted to depth surfaces, with exact and with noisy depth."""

import math

import numpy as np
import pytest

from spatialclaw_ros import geometry as geo


def _exact(points: np.ndarray) -> geo.Surface:
    n = len(points)
    return geo.Surface(points, np.zeros(n), np.full(n, 0.005), np.tile([0.0, 0.0, 1.0], (n, 1)))


def _box_faces(size, centre, yaw_rad, step=0.02) -> np.ndarray:
    """Points on the four sides and the top of an upright box (what cameras around it see)."""
    hx, hy, hz = (0.5 * v for v in size)
    u = np.arange(-1.0, 1.0 + 1e-9, step / max(hx, hy, hz))
    a, b = np.meshgrid(u, u)
    a, b = a.ravel(), b.ravel()
    faces = [np.column_stack([np.full_like(a, s * hx), a * hy, b * hz]) for s in (-1, 1)] + [
        np.column_stack([a * hx, np.full_like(a, s * hy), b * hz]) for s in (-1, 1)
    ]
    faces.append(np.column_stack([a * hx, b * hy, np.full_like(a, hz)]))
    local = np.concatenate(faces)
    c, s = math.cos(yaw_rad), math.sin(yaw_rad)
    return local @ np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]]) + np.asarray(centre)


def _seen_with_noise(points: np.ndarray, camera: np.ndarray, sigma_m: float, rng) -> geo.Surface:
    """The points as a depth camera at ``camera`` (level, z up) sees them: noise along each ray."""
    offsets = points - camera
    depth = np.linalg.norm(offsets[:, :2], axis=1)  # the optical axis is horizontal, about
    ray = offsets / depth[:, None]
    noisy = points + (sigma_m * rng.standard_normal(len(points)))[:, None] * ray
    n = len(points)
    return geo.Surface(noisy, np.full(n, sigma_m), depth / 500.0, ray)


def test_exact_box_surface_gives_its_size_and_centre():
    points = _box_faces((1.2, 0.5, 0.8), (2.0, -1.0, 0.4), yaw_rad=0.6)
    box = geo.fit_upright_box(_exact(points))
    np.testing.assert_allclose(box.size, [1.2, 0.5, 0.8], atol=1e-6)
    np.testing.assert_allclose(box.center, [2.0, -1.0, 0.4], atol=1e-6)
    np.testing.assert_allclose(box.rotation[:, 2], [0.0, 0.0, 1.0])
    assert abs(box.rotation[:, 0] @ [math.cos(0.6), math.sin(0.6), 0.0]) == pytest.approx(1.0)


def test_with_exact_depth_one_stray_point_does_not_define_a_face():
    points = _box_faces((1.2, 0.5, 0.8), (2.0, -1.0, 0.4), yaw_rad=0.0)
    box = geo.fit_upright_box(_exact(np.vstack([points, [[9.0, -1.0, 0.4]]])))
    np.testing.assert_allclose(box.size, [1.2, 0.5, 0.8], atol=1e-6)


def test_half_a_cylinder_is_recognised_by_its_circle():
    angles = np.linspace(-0.5 * math.pi, 0.5 * math.pi, 200)
    z = np.linspace(0.0, 1.5, 30)
    a, h = np.meshgrid(angles, z)
    points = np.column_stack([1.0 + 0.25 * np.cos(a.ravel()), 0.25 * np.sin(a.ravel()), h.ravel()])
    box = geo.fit_upright_box(_exact(points))
    np.testing.assert_allclose(box.size, [0.5, 0.5, 1.5], atol=1e-6)
    np.testing.assert_allclose(box.center[:2], [1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(box.rotation, np.eye(3))


def test_a_shallow_arc_is_a_face_not_a_wide_cylinder():
    """One face seen slightly bent (two views that disagree a little) fits a circle of huge radius.

    The circle fits such points better than any rectangle, but its diameter is far wider than the
    footprint: the object is the box around the face, not a cylinder metres across.
    """
    angles = np.linspace(-0.024, 0.024, 60)  # 0.48 m of a 10 m radius arc: 2.9 mm deep
    z = np.linspace(0.0, 0.34, 30)
    a, h = np.meshgrid(angles, z)
    points = np.column_stack([-7.0 + 10.0 * np.cos(a.ravel()), 10.0 * np.sin(a.ravel()), h.ravel()])
    box = geo.fit_upright_box(_exact(points))
    assert box.size[0] == pytest.approx(0.48, abs=1e-3) and box.size[1] < 0.004
    assert abs(box.center[0] - 3.0) < 0.003 and abs(box.center[1]) < 1e-6


def test_noisy_faces_sit_at_the_median_not_at_the_extremes(rng):
    """Extremes of 5 mm noise would grow every side by about 3 sigma; medians stay within a millimetre."""
    points = _box_faces((1.0, 0.6, 0.7), (0.0, 0.0, 0.35), yaw_rad=0.3, step=0.01)
    surface = geo.fuse_surfaces(
        [
            _seen_with_noise(points[keep], camera, 0.005, rng)
            for camera, keep in (
                (np.array([-4.0, 0.0, 1.5]), points[:, 0] < 0.0),
                (np.array([4.0, 0.0, 1.5]), points[:, 0] >= 0.0),
            )
        ]
    )
    box = geo.fit_upright_box(surface)
    np.testing.assert_allclose(box.size[:2], [1.0, 0.6], atol=2e-3)
    np.testing.assert_allclose(box.center[:2], [0.0, 0.0], atol=2e-3)
    top = box.center[2] + 0.5 * box.size[2]
    assert top == pytest.approx(0.7, abs=2e-3)


def test_too_few_consistent_points_are_an_error():
    with pytest.raises(ValueError, match="too few consistent points"):
        geo.fit_upright_box(_exact(np.random.default_rng(0).uniform(size=(9, 3))))
    with pytest.raises(ValueError, match="too few consistent points"):
        geo.fit_upright_box(_exact(np.zeros((0, 3))))


def test_a_surface_of_mismatched_arrays_is_rejected():
    surface = _exact(np.zeros((20, 3)))
    with pytest.raises(ValueError, match="sigma_m"):
        geo.fit_upright_box(surface._replace(sigma_m=np.zeros(19)))
