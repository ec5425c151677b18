import numpy as np
import pytest

from spatialclaw_ros import geometry as geo


def _box_surface_points(rng, center, size, R, n=2000):
    local = rng.uniform(-0.5, 0.5, size=(n, 3)) * size
    axis = rng.integers(0, 3, size=n)
    local[np.arange(n), axis] = np.sign(local[np.arange(n), axis]) * np.asarray(size)[axis] / 2
    corners = geo.Box3D(center=[0, 0, 0], size=size).corners()
    return np.vstack([local, corners]) @ np.asarray(R).T + center


def test_axis_aligned_box_of_a_translated_box(rng):
    points = _box_surface_points(rng, [1.0, -2.0, 0.5], [2.0, 1.0, 1.0], np.eye(3))
    box = geo.axis_aligned_box(points)
    np.testing.assert_allclose(box.center, [1.0, -2.0, 0.5], atol=1e-12)
    np.testing.assert_allclose(box.size, [2.0, 1.0, 1.0], atol=1e-12)


def test_axis_aligned_trim_ignores_outliers(rng):
    points = np.vstack([rng.uniform(-1, 1, size=(1000, 3)), [[50.0, 50.0, 50.0]]])
    assert geo.axis_aligned_box(points, trim_fraction=0.01).size.max() < 2.1


def test_gravity_aligned_box_recovers_yaw_and_size(rng):
    yaw = 0.6
    R = geo.rotation_about_axis([0, 0, 1], yaw)
    points = _box_surface_points(rng, [3.0, 1.0, 0.4], [2.0, 0.8, 0.8], R)
    box = geo.gravity_aligned_box(points, up=geo.UP_BODY)
    np.testing.assert_allclose(box.size, [2.0, 0.8, 0.8], atol=1e-9)
    np.testing.assert_allclose(box.center, [3.0, 1.0, 0.4], atol=1e-9)
    assert np.abs(box.rotation[:, 0] @ R[:, 0]) == pytest.approx(1.0)
    np.testing.assert_allclose(box.rotation[:, 2], [0, 0, 1])


def test_gravity_aligned_box_in_the_optical_frame(rng):
    R = geo.rotation_about_axis(geo.UP_OPTICAL, 0.3)
    points = _box_surface_points(rng, [0.0, 0.5, 3.0], [1.2, 0.5, 0.4], R @ geo.R_OPTICAL_BODY)
    box = geo.gravity_aligned_box(points, up=geo.UP_OPTICAL)
    np.testing.assert_allclose(box.size, [1.2, 0.5, 0.4], atol=1e-9)
    np.testing.assert_allclose(box.rotation[:, 2], [0, -1, 0])
    assert np.linalg.det(box.rotation) == pytest.approx(1.0)


def test_oriented_box_recovers_a_tilted_box(rng):
    R = geo.rotation_from_rpy(0.4, -0.3, 1.0)
    points = _box_surface_points(rng, [0.5, 0.5, 2.0], [3.0, 1.0, 0.2], R, n=5000)
    box = geo.oriented_box(points)
    np.testing.assert_allclose(box.size, [3.0, 1.0, 0.2], atol=0.02)
    np.testing.assert_allclose(np.abs(box.rotation.T @ R), np.eye(3), atol=0.02)
    assert box.contains(points, margin_m=1e-9).all()


def test_gravity_aligned_box_of_a_flat_footprint():
    # A thin straight rail along x = y: the footprint is a segment, the box aligns with it.
    t = np.linspace(0.0, 2.0, 21)
    points = np.stack([t, t, np.zeros_like(t) + 0.3 * (t > 1)], axis=1)
    box = geo.gravity_aligned_box(points, up=geo.UP_BODY)
    np.testing.assert_allclose(box.size, [2.0 * np.sqrt(2.0), 0.0, 0.3], atol=1e-9)
    assert np.abs(box.rotation[:, 0] @ [np.sqrt(0.5), np.sqrt(0.5), 0.0]) == pytest.approx(1.0)
