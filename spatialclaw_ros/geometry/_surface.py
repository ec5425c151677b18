"""Depth surfaces: back-projected pixels with their depth uncertainty, fused over cameras, outliers out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spatialclaw_ros.geometry import _checks
from spatialclaw_ros.geometry._camera import backproject
from spatialclaw_ros.geometry._checks import FloatArray


class Surface(NamedTuple):
    """Points of a surface seen in depth images, each with what its depth error does to it.

    Attributes:
        points: (N, 3) points, metres, in the frame the cameras' poses map into (the world).
        sigma_m: (N,) uncertainty of each point's depth, metres (0: exact depth).
        spacing_m: (N,) distance between neighbouring pixels' rays at each point, metres
            (depth / fx): the size of the pixel's footprint on the surface, about.
        ray: (N, 3) how far each point moves per metre of depth error: its pixel's ray scaled to
            unit optical depth, in the points' frame. The noise of a point along a unit direction
            n is ``sigma_m * |ray @ n|``.
    """

    points: FloatArray
    sigma_m: FloatArray
    spacing_m: FloatArray
    ray: FloatArray

    def subset(self, keep: NDArray[np.bool_]) -> Surface:
        """The points where ``keep`` (N,) is True, with their uncertainty, spacing and ray."""
        return Surface(*(array[keep] for array in self))


def surface_from_depth(
    depth_m: ArrayLike,
    sigma_m: ArrayLike,
    K: ArrayLike,
    T_world_camera: ArrayLike,
    mask: ArrayLike | None = None,
) -> Surface:
    """The surface a depth image shows, in the world, with each point's depth uncertainty.

    Convention:
        `depth_m` (H, W) metres along the optical axis and `sigma_m` (H, W) its uncertainty,
        metres; `K` (3, 3) the intrinsics; `T_world_camera` (4, 4) maps the camera's optical frame
        (REP-103: x right, y down, z forward) into the world. Pixels whose depth is NaN, inf or
        <= 0 are skipped, as are pixels where `mask` (H, W) is False. Points come in row-major
        pixel order (as ``backproject``'s); no valid pixel gives an empty surface.

    Example:
        >>> K = [[100.0, 0.0, 1.0], [0.0, 100.0, 1.0], [0.0, 0.0, 1.0]]
        >>> depth = np.full((3, 3), np.nan)
        >>> depth[1, 2] = 2.0
        >>> surface = surface_from_depth(depth, np.full((3, 3), 0.01), K, np.eye(4))
        >>> (surface.points.tolist(), surface.spacing_m.tolist(), surface.ray.tolist())
        ([[0.02, 0.0, 2.0]], [0.02], [[0.01, 0.0, 1.0]])
    """
    depth = _checks.image2d("depth_m", depth_m)
    sigma = _checks.image2d("sigma_m", sigma_m)
    if sigma.shape != depth.shape:
        raise ValueError(f"sigma_m must have the depth image's shape {depth.shape}, got {sigma.shape}")
    T = _checks.rigid_transform("T_world_camera", T_world_camera)
    valid = np.isfinite(depth) & (depth > 0.0)
    if mask is not None:
        valid &= _checks.mask2d("mask", mask, depth.shape)
    local = backproject(depth, K, valid)
    R = T[:3, :3]
    return Surface(
        local @ R.T + T[:3, 3],
        sigma[valid],
        local[:, 2] / float(np.asarray(K, dtype=np.float64)[0, 0]),
        (local / local[:, 2:3]) @ R.T,
    )


def checked_surface(name: str, surface: Surface) -> Surface:
    """``surface`` as float64 arrays: finite points (N, 3), sigma_m and spacing_m (N,), ray (N, 3)."""
    points = _checks.points3(f"{name}.points", surface.points, min_count=0)
    n = len(points)
    checked = [points]
    for field, shape in (("sigma_m", (n,)), ("spacing_m", (n,)), ("ray", (n, 3))):
        array = _checks.as_float_array(f"{name}.{field}", getattr(surface, field))
        if array.shape != shape:
            raise ValueError(f"{name}.{field} must have shape {shape} (as {name}.points), got {array.shape}")
        checked.append(array)
    return Surface(*checked)


def fuse_surfaces(parts: Sequence[Surface]) -> Surface:
    """One surface of all the points of ``parts`` (say, one object seen by several cameras), in order.

    Convention:
        Every part's points in the same frame (the world), metres. At least one part.

    Example:
        >>> one = Surface(np.zeros((1, 3)), np.zeros(1), np.ones(1), np.ones((1, 3)))
        >>> len(fuse_surfaces([one, one]).points)
        2
    """
    if not parts:
        raise ValueError("parts must hold at least one surface")
    checked = [checked_surface(f"parts[{i}]", part) for i, part in enumerate(parts)]
    return Surface(*(np.concatenate(arrays) for arrays in zip(*checked, strict=True)))


def without_isolated_points(surface: Surface, max_gap_px: float = 6.0, neighbours: int = 8) -> Surface:
    """Drop isolated points: those whose ``neighbours``-th nearest point is too far for their spacing.

    Convention:
        A point is isolated (a stray depth error) when its ``neighbours``-th nearest other point lies
        more than ``max_gap_px`` times its own pixel spacing (``surface.spacing_m``) away, metres
        over metres; in a surface of ``neighbours`` points or fewer every point is.

    Example:
        >>> grid = [[x, y, 1.0] for x in np.arange(0.0, 0.1, 0.01) for y in np.arange(0.0, 0.1, 0.01)]
        >>> points = np.array(grid + [[5.0, 5.0, 1.0]])
        >>> n = len(points)
        >>> surface = Surface(points, np.zeros(n), np.full(n, 0.01), np.tile([0.0, 0.0, 1.0], (n, 1)))
        >>> len(without_isolated_points(surface).points)
        100
    """
    # Imported here: scipy.spatial costs ~0.2 s to import, which plain users of the package skip.
    from scipy.spatial import cKDTree

    surface = checked_surface("surface", surface)
    count = _checks.positive_int("neighbours", neighbours)
    if len(surface.points) == 0:
        return surface
    # The point itself is its own nearest; a missing neighbour is infinitely far.
    distances = cKDTree(surface.points).query(surface.points, k=count + 1)[0][:, -1]
    return surface.subset(distances / surface.spacing_m <= float(max_gap_px))


def without_far_outliers(surface: Surface, quantile: float = 0.005, growth: float = 0.5) -> Surface:
    """Drop points far outside the bulk: beyond the quantile box grown by ``growth`` of its size.

    Convention:
        Per axis of the points' frame, the box spans the ``quantile`` and ``1 - quantile`` quantiles
        of the points, grown on every side by ``growth`` times its size plus 1 mm; points outside it
        are dropped. Suits exact depth, where one stray point would otherwise define a face.

    Example:
        >>> points = np.array([[x, 0.0, 0.0] for x in np.linspace(0.0, 1.0, 199)] + [[9.0, 0.0, 0.0]])
        >>> n = len(points)
        >>> surface = Surface(points, np.zeros(n), np.ones(n), np.tile([0.0, 0.0, 1.0], (n, 1)))
        >>> float(without_far_outliers(surface).points[:, 0].max())
        1.0
    """
    surface = checked_surface("surface", surface)
    share = _checks.fraction("quantile", quantile, upper=0.5)
    if len(surface.points) == 0:
        return surface
    low, high = np.quantile(surface.points, [share, 1.0 - share], axis=0)
    margin = float(growth) * (high - low) + 1e-3
    keep = np.all((surface.points >= low - margin) & (surface.points <= high + margin), axis=1)
    return surface.subset(keep)
