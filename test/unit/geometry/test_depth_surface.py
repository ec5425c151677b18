"""Depth surfaces: world points with their depth uncertainty, fused over cameras, without outliers."""

import numpy as np
import pytest

from spatialclaw_ros import geometry as geo


def _surface(points, sigma=0.0, spacing=0.01) -> geo.Surface:
    points = np.asarray(points, dtype=float)
    n = len(points)
    return geo.Surface(points, np.full(n, sigma), np.full(n, spacing), np.tile([0.0, 0.0, 1.0], (n, 1)))


@pytest.fixture
def T_world_camera() -> np.ndarray:
    """A level camera at (1, 2, 1.5) looking along world +x (optical z forward = world x)."""
    return geo.make_transform(geo.R_BODY_OPTICAL, [1.0, 2.0, 1.5])


def test_a_pixel_lands_where_its_ray_meets_its_depth_in_the_world(K, T_world_camera):
    depth = np.full((480, 640), np.nan)
    depth[240, 420] = 2.0  # 100 px right of the centre at 2 m: 0.4 m to the camera's right
    surface = geo.surface_from_depth(depth, np.full(depth.shape, 0.01), K, T_world_camera)
    np.testing.assert_allclose(surface.points, [[3.0, 1.6, 1.5]])
    assert surface.sigma_m.tolist() == [0.01]
    assert surface.spacing_m.tolist() == [2.0 / 500.0]
    np.testing.assert_allclose(surface.ray, [[1.0, -0.2, 0.0]])


def test_the_ray_is_how_far_a_point_moves_per_metre_of_depth(K, T_world_camera, rng):
    depth = rng.uniform(1.0, 4.0, size=(480, 640))
    zeros = np.zeros(depth.shape)
    near = geo.surface_from_depth(depth, zeros, K, T_world_camera)
    far = geo.surface_from_depth(depth + 0.5, zeros, K, T_world_camera)
    np.testing.assert_allclose(far.points - near.points, 0.5 * near.ray, atol=1e-12)


def test_invalid_depth_and_pixels_off_the_mask_are_skipped(K):
    depth = np.array([[1.0, np.nan, 0.0], [-1.0, np.inf, 2.0]])
    sigma = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    K3 = [[10.0, 0.0, 1.0], [0.0, 10.0, 0.5], [0.0, 0.0, 1.0]]
    surface = geo.surface_from_depth(depth, sigma, K3, np.eye(4))
    assert surface.sigma_m.tolist() == [0.1, 0.6]
    masked = geo.surface_from_depth(depth, sigma, K3, np.eye(4), mask=[[0, 1, 1], [1, 1, 1]])
    assert masked.sigma_m.tolist() == [0.6]


def test_no_valid_pixel_gives_an_empty_surface(K):
    surface = geo.surface_from_depth(np.full((480, 640), np.nan), np.zeros((480, 640)), K, np.eye(4))
    assert [array.shape for array in surface] == [(0, 3), (0,), (0,), (0, 3)]


def test_sigma_of_another_shape_is_rejected(K):
    with pytest.raises(ValueError, match="sigma_m"):
        geo.surface_from_depth(np.ones((480, 640)), np.ones((48, 64)), K, np.eye(4))


def test_fusing_keeps_every_part_in_order():
    a, b = _surface([[0.0, 0.0, 1.0]], sigma=0.1), _surface([[1.0, 0.0, 1.0], [2.0, 0.0, 1.0]])
    unseen = _surface(np.zeros((0, 3)))  # a camera that does not see the object
    fused = geo.fuse_surfaces([a, unseen, b])
    assert fused.points[:, 0].tolist() == [0.0, 1.0, 2.0]
    assert fused.sigma_m.tolist() == [0.1, 0.0, 0.0]
    with pytest.raises(ValueError, match="at least one"):
        geo.fuse_surfaces([])


def test_a_stray_point_off_a_dense_patch_is_isolated():
    xs, ys = np.meshgrid(np.arange(0.0, 0.2, 0.01), np.arange(0.0, 0.2, 0.01))
    patch = np.column_stack([xs.ravel(), ys.ravel(), np.ones(xs.size)])
    # 5 cm off the patch: its 8th neighbour is > 6 pixel spacings (6 cm) away only for the far one.
    near = [0.1, 0.1, 1.04]
    far = [0.1, 0.1, 1.2]
    kept = geo.without_isolated_points(_surface(np.vstack([patch, near, far])))
    assert len(kept.points) == len(patch) + 1
    assert far not in kept.points.tolist() and near in kept.points.tolist()


def test_isolation_scales_with_each_points_own_spacing():
    """A distant camera's pixels lie far apart: the same gap is no outlier there."""
    line = np.column_stack([np.arange(12) * 0.05, np.zeros(12), np.full(12, 5.0)])
    assert len(geo.without_isolated_points(_surface(line, spacing=0.01)).points) == 0
    assert len(geo.without_isolated_points(_surface(line, spacing=0.1)).points) == 12


def test_a_surface_of_eight_points_or_fewer_is_all_isolated_and_an_empty_one_stays_empty():
    points = np.zeros((8, 3)) + np.arange(8)[:, None] * 1e-4
    assert len(geo.without_isolated_points(_surface(points)).points) == 0
    assert len(geo.without_isolated_points(_surface(np.zeros((0, 3)))).points) == 0
    assert len(geo.without_far_outliers(_surface(np.zeros((0, 3)))).points) == 0


def test_a_point_far_outside_the_bulk_is_dropped_one_just_outside_kept():
    line = np.column_stack([np.linspace(0.0, 1.0, 400), np.zeros(400), np.zeros(400)])
    # The 0.5-99.5 % box spans about [0.005, 0.995]; grown by half its size: [-0.49, 1.49].
    surface = _surface(np.vstack([line, [[1.4, 0.0, 0.0]], [[1.6, 0.0, 0.0]]]))
    kept = geo.without_far_outliers(surface)
    assert kept.points[:, 0].max() == 1.4
    assert len(kept.points) == 401
