"""Point sets: robust centroids and distances between objects given as points."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from spatialclaw_ros.geometry import _checks
from spatialclaw_ros.geometry._checks import FloatArray

CENTROID_METHODS = ("median", "trimmed_mean", "mean")
DISTANCE_METHODS = ("centroid", "closest")


class Distance(NamedTuple):
    """A distance between two point sets and the two points it is measured between (metres)."""

    value_m: float
    point_a: FloatArray
    point_b: FloatArray


def robust_centroid(points: ArrayLike, method: str = "median", trim_fraction: float = 0.1) -> FloatArray:
    """Centre of a point set that resists outliers (stray depth pixels, mask bleed).

    Convention:
        `points` is (N, 3) in any frame (metres); the result is (3,) in the same frame.
        "median": per-axis median. "trimmed_mean": per-axis mean after dropping
        floor(trim_fraction * N) values at each end of each axis. "mean": plain mean.

    Example:
        >>> robust_centroid([[0, 0, 1], [0, 0, 1], [0, 0, 1], [0, 0, 100]]).tolist()
        [0.0, 0.0, 1.0]
    """
    P = _checks.points3("points", points)
    if method == "median":
        return np.median(P, axis=0)
    if method == "mean":
        return P.mean(axis=0)
    if method == "trimmed_mean":
        trim = _checks.fraction("trim_fraction", trim_fraction, upper=0.5)
        cut = int(np.floor(trim * P.shape[0]))
        ordered = np.sort(P, axis=0)
        return ordered[cut : P.shape[0] - cut].mean(axis=0)
    raise ValueError(f"method must be one of {CENTROID_METHODS}, got {method!r}")


def distance_between(points_a: ArrayLike, points_b: ArrayLike, method: str = "centroid") -> Distance:
    """Distance between two objects given as point sets (or single points).

    Convention:
        `points_a`, `points_b`: (N, 3) / (M, 3) or (3,), metres, both in the same frame.
        "centroid": distance between the per-axis medians (`robust_centroid`); the returned points
        are those medians. "closest": smallest Euclidean distance between any point of a and any
        point of b (surface-to-surface gap); the returned points are that closest pair. Returns
        `Distance(value_m, point_a (3,), point_b (3,))`.

    Example:
        >>> d = distance_between([[0, 0, 0], [1, 0, 0]], [[3, 0, 0], [4, 0, 0]], method="closest")
        >>> (d.value_m, d.point_a.tolist(), d.point_b.tolist())
        (2.0, [1.0, 0.0, 0.0], [3.0, 0.0, 0.0])
    """
    A = _checks.points3("points_a", points_a)
    B = _checks.points3("points_b", points_b)
    if method == "centroid":
        a, b = robust_centroid(A), robust_centroid(B)
    elif method == "closest":
        # Imported here: scipy.spatial costs ~0.2 s to import, which plain users of the package skip.
        from scipy.spatial import cKDTree

        gaps, nearest = cKDTree(B).query(A, k=1)
        i = int(np.argmin(gaps))
        a, b = A[i], B[int(nearest[i])]
    else:
        raise ValueError(f"method must be one of {DISTANCE_METHODS}, got {method!r}")
    return Distance(float(np.linalg.norm(b - a)), a.copy(), b.copy())
