"""Planes in point clouds: RANSAC fit, floor and up-vector estimate, height above a plane."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spatialclaw_ros.geometry import _checks
from spatialclaw_ros.geometry._checks import FloatArray

_SCORE_POINTS = 10_000
_SCORE_BLOCK = 4_000_000


class PlaneFit(NamedTuple):
    """A plane ``normal . p + d = 0`` (unit normal, d in metres) and which input points are inliers."""

    normal: FloatArray
    d: float
    inliers: NDArray[np.bool_]


def _rng(seed: np.random.Generator | int | None) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _least_squares_plane(P: FloatArray) -> tuple[FloatArray, float]:
    centroid = P.mean(axis=0)
    _, _, vt = np.linalg.svd(P - centroid, full_matrices=False)
    normal = vt[-1]
    return normal, float(-normal @ centroid)


def _ransac(
    P: FloatArray,
    threshold_m: float,
    iterations: int,
    rng: np.random.Generator,
    up_hint: FloatArray | None,
    max_tilt_rad: float,
) -> PlaneFit:
    n = P.shape[0]
    samples = rng.integers(0, n, size=(iterations, 3))
    a, b, c = P[samples[:, 0]], P[samples[:, 1]], P[samples[:, 2]]
    normals = np.cross(b - a, c - a)
    norms = np.linalg.norm(normals, axis=1)
    usable = norms > 1e-9
    normals[usable] /= norms[usable, None]
    if up_hint is not None:
        usable &= np.abs(normals @ up_hint) >= np.cos(max_tilt_rad)
    if not np.any(usable):
        raise ValueError("points hold no usable plane (collinear, duplicated, or none within the tilt limit)")
    normals, a = normals[usable], a[usable]
    offsets = -np.einsum("ij,ij->i", normals, a)
    # Hypotheses are scored on a random subset of large clouds (the inlier ratio it estimates is
    # accurate to about 1 %), in chunks so that memory stays near _SCORE_BLOCK floats.
    scored = P[rng.choice(n, _SCORE_POINTS, replace=False)] if n > _SCORE_POINTS else P
    chunk = max(1, _SCORE_BLOCK // scored.shape[0])
    counts = np.concatenate(
        [
            (np.abs(scored @ normals[i : i + chunk].T + offsets[i : i + chunk]) <= threshold_m).sum(axis=0)
            for i in range(0, normals.shape[0], chunk)
        ]
    )
    best = int(np.argmax(counts))
    inliers = np.abs(P @ normals[best] + offsets[best]) <= threshold_m
    normal, d = normals[best], float(offsets[best])
    if inliers.sum() >= 3:
        refined_normal, refined_d = _least_squares_plane(P[inliers])
        refined = np.abs(P @ refined_normal + refined_d) <= threshold_m
        if refined.sum() >= inliers.sum():
            normal, d, inliers = refined_normal, refined_d, refined
    towards = normal @ up_hint if up_hint is not None else d
    sign = 1.0 if towards >= 0.0 else -1.0
    return PlaneFit(normal * sign, d * sign, inliers)


def fit_plane_ransac(
    points: ArrayLike,
    threshold_m: float = 0.02,
    iterations: int = 256,
    rng: np.random.Generator | int | None = 0,
    up_hint: ArrayLike | None = None,
) -> PlaneFit:
    """Fit the plane that the most points lie on (RANSAC, then least squares on its inliers).

    Convention:
        `points` (N, 3) metres, N >= 3. Returns `PlaneFit(normal (3,) unit, d, inliers (N,) bool)`
        with ``normal . p + d = 0`` on the plane; a point is an inlier when its distance to the
        plane is <= `threshold_m`. The normal points towards `up_hint` ((3,), any length) when
        given, else towards the frame origin (for a floor seen in a camera frame: up, towards the
        camera), so that ``height_above_plane`` is positive on that side. `rng` is a seed or a
        numpy Generator; the same seed gives the same result.

    Example:
        >>> xs, ys = np.meshgrid(np.arange(5.0), np.arange(5.0))
        >>> floor = np.stack([xs.ravel(), ys.ravel(), np.full(25, -1.0)], axis=1)
        >>> fit = fit_plane_ransac(floor)
        >>> (np.round(fit.normal, 6).tolist(), round(fit.d, 6), int(fit.inliers.sum()))
        ([0.0, 0.0, 1.0], 1.0, 25)
    """
    P = _checks.points3("points", points, min_count=3)
    threshold = float(threshold_m)
    if not threshold > 0.0:
        raise ValueError(f"threshold_m must be > 0, got {threshold_m!r}")
    count = _checks.positive_int("iterations", iterations)
    hint = None if up_hint is None else _checks.unit_vector3("up_hint", up_hint)
    return _ransac(P, threshold, count, _rng(rng), hint, np.pi)


def estimate_floor(
    points: ArrayLike,
    up_hint: ArrayLike,
    max_tilt_deg: float = 30.0,
    threshold_m: float = 0.02,
    iterations: int = 512,
    rng: np.random.Generator | int | None = 0,
) -> PlaneFit:
    """Find the floor: the largest plane whose normal is within `max_tilt_deg` of `up_hint`.

    Convention:
        `points` (N, 3) metres; `up_hint` (3,) a rough up in the same frame (e.g. `UP_OPTICAL`
        (0, -1, 0) for a roughly level camera). The returned normal is the estimated up (gravity
        reversed), oriented towards `up_hint`; ``height_above_plane(points, fit.normal, fit.d)`` is
        then the height above the floor. Walls (normals far from `up_hint`) are never chosen; a
        large table top can be, so crop to the lower part of the scene when that matters.

    Example:
        >>> xs, ys = np.meshgrid(np.arange(6.0), np.arange(6.0))
        >>> floor = np.stack([xs.ravel(), np.full(36, 1.5), ys.ravel()], axis=1)
        >>> yy, zz = np.meshgrid(np.arange(-3.0, 3.0), np.arange(7.0))
        >>> wall = np.stack([np.full(42, 3.0), yy.ravel(), zz.ravel()], axis=1)
        >>> fit = estimate_floor(np.vstack([floor, wall]), up_hint=[0.0, -1.0, 0.0])
        >>> (np.allclose(fit.normal, [0.0, -1.0, 0.0]), round(fit.d, 6), int(fit.inliers.sum()))
        (True, 1.5, 36)
    """
    P = _checks.points3("points", points, min_count=3)
    hint = _checks.unit_vector3("up_hint", up_hint)
    tilt = float(max_tilt_deg)
    if not 0.0 < tilt <= 90.0:
        raise ValueError(f"max_tilt_deg must lie in (0, 90], got {max_tilt_deg!r}")
    threshold = float(threshold_m)
    if not threshold > 0.0:
        raise ValueError(f"threshold_m must be > 0, got {threshold_m!r}")
    count = _checks.positive_int("iterations", iterations)
    fit = _ransac(P, threshold, count, _rng(rng), hint, np.deg2rad(tilt))
    if np.degrees(np.arccos(np.clip(fit.normal @ hint, -1.0, 1.0))) > tilt:
        raise ValueError(f"no plane within {tilt} degrees of up_hint after refinement")
    return fit


def height_above_plane(points: ArrayLike, normal: ArrayLike, d: float) -> FloatArray:
    """Signed distance of points from the plane ``normal . p + d = 0``, metres.

    Convention:
        `points` (N, 3) or (3,); `normal` (3,) is normalised first (d is scaled with it). Positive
        on the side the normal points to. Returns (N,) or a 0-d float for a single point.

    Example:
        >>> height_above_plane([[0.0, 0.0, 2.5]], normal=[0.0, 0.0, 1.0], d=0.5).tolist()
        [3.0]
    """
    single = np.shape(points) == (3,)
    P = _checks.points3("points", points)
    raw = _checks.vector3("normal", normal)
    scale = float(np.linalg.norm(raw))
    if scale < 1e-12:
        raise ValueError("normal must be a non-zero vector")
    heights = (P @ raw + float(d)) / scale
    return heights[0] if single else heights
