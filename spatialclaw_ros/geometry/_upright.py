"""Upright boxes and cylinders fitted to depth surfaces: faces at the points, unbiased under depth noise."""

from __future__ import annotations

import math

import numpy as np

from spatialclaw_ros.geometry._boxes import Box3D, gravity_aligned_box
from spatialclaw_ros.geometry._checks import FloatArray
from spatialclaw_ros.geometry._circles import fit_circle
from spatialclaw_ros.geometry._surface import (
    Surface,
    checked_surface,
    without_far_outliers,
    without_isolated_points,
)
from spatialclaw_ros.geometry._transforms import UP_BODY

# Fewest points that make a surface, a face or a top.
_MIN_POINTS = 10
# Most points the noisy yaw search evaluates (a regular subsample).
_YAW_POINTS = 2000
# Share of the footprint's points trimmed at each end of each axis by the noisy yaw search.
_YAW_TRIM = 0.01
# A cylinder's visible arc spans nearly its diameter (a camera sees almost half of it); a circle much
# wider than the footprint is a flat face's, which a circle of huge radius fits as well as a line.
_CYLINDER_MAX_DIAMETER_RATIO = 1.25
# Refinement rounds of the noisy top and side faces.
_FACE_ROUNDS = 3


def _yaw_of_least_area(xy: FloatArray, trim: float) -> float:
    """Yaw in [0, pi/2) of the smallest trimmed-quantile rectangle around ``xy`` (1, then 0.05 deg steps)."""
    # A few thousand points pin the quantiles well enough and keep the search fast.
    xy = xy[:: max(1, len(xy) // _YAW_POINTS)]

    def area(yaw: float) -> float:
        c, s = math.cos(yaw), math.sin(yaw)
        u, v = xy @ np.array([c, s]), xy @ np.array([-s, c])
        lo_u, hi_u = np.quantile(u, [trim, 1.0 - trim])
        lo_v, hi_v = np.quantile(v, [trim, 1.0 - trim])
        return float((hi_u - lo_u) * (hi_v - lo_v))

    coarse = np.radians(np.arange(0.0, 90.0, 1.0))
    best = float(coarse[int(np.argmin([area(yaw) for yaw in coarse]))])
    fine = best + np.radians(np.arange(-1.0, 1.0001, 0.05))
    return float(fine[int(np.argmin([area(yaw) for yaw in fine]))]) % (0.5 * math.pi)


def _face_gaps(local: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
    """(N, 4) signed distances of footprint points (box axes) inside the faces -x, +x, -y, +y."""
    return np.column_stack(
        [local[:, 0] - lo[0], hi[0] - local[:, 0], local[:, 1] - lo[1], hi[1] - local[:, 1]]
    )


def _face_bounds(
    local: FloatArray, slack: FloatArray, cap: FloatArray, lo: FloatArray, hi: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Refine the four side faces: each at the median of the side points within ``slack`` of it.

    ``local`` (N, 2) side points in box axes, ``slack`` (N, 2) how far each may lie off a face
    normal to each axis; ``cap`` (M, 2) top points in box axes bound a face no side point shows.
    """
    for _ in range(_FACE_ROUNDS):
        gaps = _face_gaps(local, lo, hi)
        nearest = np.argmin(np.abs(gaps), axis=1)
        bounds = [lo[0], hi[0], lo[1], hi[1]]
        for face in range(4):
            axis = face // 2
            on_face = (nearest == face) & (np.abs(gaps[:, face]) <= slack[:, axis])
            if on_face.sum() >= _MIN_POINTS:
                bounds[face] = float(np.median(local[on_face, axis]))
            elif len(cap) >= _MIN_POINTS:
                bounds[face] = float(np.quantile(cap[:, axis], 0.99 if face % 2 else 0.01))
        lo, hi = np.array(bounds[0::2]), np.array(bounds[1::2])
    return lo, hi


def _top_and_bottom(z: FloatArray, z_noise: FloatArray, noisy: bool) -> tuple[float, float]:
    """Heights of the top and the bottom: the extremes, or under noise the top band's median."""
    if not noisy:
        return float(z.max()), float(z.min())
    top, bottom = (float(v) for v in np.quantile(z, [0.995, 0.005]))
    on_top = z >= top - 2.0 * z_noise
    for _ in range(_FACE_ROUNDS):
        if on_top.sum() < _MIN_POINTS:
            break
        top = float(np.median(z[on_top]))
        on_top = np.abs(z - top) <= z_noise
    return top, bottom


def fit_upright_box(surface: Surface) -> Box3D:
    """An upright box (or the square box around an upright cylinder) fitted to an object's surface.

    Convention:
        `surface` in a world frame with z up (REP-103), metres, at least 10 points; the box's
        rotation turns only about z, its x axis along the longer footprint side, so its size is
        (length, width, height). Exact depth (every sigma 0): points far outside the 0.5-99.5 %
        quantile box (by more than half its size) are dropped, then the faces are the extremes
        along the axes of the smallest footprint rectangle (the faces a camera sees hold points
        exactly on them). Noisy depth: isolated points are dropped (``without_isolated_points``),
        the yaw is that of the smallest 1 %-trimmed rectangle, and each face sits at the median
        of the points within three sigma (along the face's normal) of it, which is unbiased under
        noise; a side face that no point shows is bounded by the top's points. Side faces come
        from the points below the top band (a visible top would pull them inwards). A footprint
        that a circle fits better than a rectangle, and that spans nearly the circle's diameter,
        is an upright cylinder's: its box is square, axes along world x and y. The bottom is the
        lowest point (no camera sees where an object stands; see ``rest_on_support``). Raises
        ValueError when fewer than 10 consistent points remain.

    Example:
        >>> corners = [[x, y, z] for x in (0.0, 2.0) for y in (0.0, 1.0) for z in (0.0, 0.5)]
        >>> points = np.array(corners + [[1.0, y, z] for y in (0.0, 1.0) for z in (0.1, 0.2, 0.3)])
        >>> n = len(points)
        >>> surface = Surface(points, np.zeros(n), np.full(n, 0.01), np.tile([0.0, 0.0, 1.0], (n, 1)))
        >>> box = fit_upright_box(surface)
        >>> (np.round(box.center, 9).tolist(), np.round(box.size, 9).tolist())
        ([1.0, 0.5, 0.25], [2.0, 1.0, 0.5])
    """
    surface = checked_surface("surface", surface)
    noisy = bool(np.any(surface.sigma_m > 0.0))
    if len(surface.points) >= _MIN_POINTS:
        # With exact depth one stray point far outside the object would otherwise define a face.
        surface = without_isolated_points(surface) if noisy else without_far_outliers(surface)
    if len(surface.points) < _MIN_POINTS:
        raise ValueError("too few consistent points")
    points, sigma, spacing, ray = surface
    z = points[:, 2]
    z_noise = 3.0 * sigma * np.abs(ray[:, 2])
    top, bottom = _top_and_bottom(z, z_noise, noisy)
    below = z < top - z_noise - 0.01 * (top - bottom)
    if below.sum() < _MIN_POINTS:
        below = np.ones(len(z), dtype=bool)
    if noisy:
        yaw = _yaw_of_least_area(points[:, :2], _YAW_TRIM)
    else:
        yaw = float(np.arctan2(*gravity_aligned_box(points, UP_BODY).rotation[1::-1, 0]))
    c, s = math.cos(yaw), math.sin(yaw)
    axes = np.array([[c, s], [-s, c]])
    local = points[:, :2] @ axes.T
    side = local[below]
    if noisy:
        slack = 3.0 * sigma[below, None] * np.abs(ray[below, :2] @ axes.T) + spacing[below, None]
        lo, hi = _face_bounds(
            side, slack, local[~below], np.quantile(local, 0.01, axis=0), np.quantile(local, 0.99, axis=0)
        )
    else:
        lo, hi = local.min(axis=0), local.max(axis=0)
    box_residual = float(np.median(np.min(np.abs(_face_gaps(side, lo, hi)), axis=1)))
    circle = fit_circle(points[below, :2])
    spans_circle = 2.0 * circle.radius_m <= _CYLINDER_MAX_DIAMETER_RATIO * float(np.max(hi - lo))
    if circle.residual_m < box_residual and spans_circle:
        centre_xy = circle.centre
        x_axis, y_axis = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
        size_xy = np.array([2.0 * circle.radius_m, 2.0 * circle.radius_m])
    else:
        centre_xy = 0.5 * (lo + hi) @ axes
        size_xy = hi - lo
        x_axis, y_axis = np.array([c, s, 0.0]), np.array([-s, c, 0.0])
        if size_xy[1] > size_xy[0]:
            x_axis, y_axis, size_xy = y_axis, -x_axis, size_xy[::-1]
    return Box3D(
        center=np.array([centre_xy[0], centre_xy[1], 0.5 * (top + bottom)]),
        size=np.array([size_xy[0], size_xy[1], top - bottom]),
        rotation=np.column_stack([x_axis, y_axis, UP_BODY]),
    )
