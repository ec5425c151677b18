"""Circles in the plane: a least-squares fit that sheds outliers (an upright cylinder's footprint)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from spatialclaw_ros.geometry import _checks
from spatialclaw_ros.geometry._checks import FloatArray

# Least-squares rounds, each refitted to the points within three robust sigmas of the last circle.
_ROUNDS = 3


class Circle(NamedTuple):
    """A circle in the plane and how well it fits (metres)."""

    centre: FloatArray
    radius_m: float
    residual_m: float


def fit_circle(xy: ArrayLike) -> Circle:
    """Least-squares circle through points of the plane, refitted twice without its outliers.

    Convention:
        `xy` (N, 2) metres in any planar frame (say, a footprint's world x and y), N >= 3. Each
        round solves ``x^2 + y^2 = 2 a x + 2 b y + c`` by least squares (centre (a, b), radius
        ``sqrt(c + a^2 + b^2)``) over the points kept, then keeps those whose distance to the
        circle is within three robust sigmas (1.4826 times the median) of the kept ones'.
        `residual_m` is the median distance of all the points to the final circle. A slightly
        bent row of points fits a circle of huge radius well (exactly collinear ones leave the
        system singular and the circle arbitrary); compare the radius with the points' extent.

    Example:
        >>> angles = np.linspace(0.0, np.pi, 7)
        >>> circle = fit_circle(np.column_stack([2.0 + 0.5 * np.cos(angles), 1.0 + 0.5 * np.sin(angles)]))
        >>> (np.round(circle.centre, 9).tolist(), round(circle.radius_m, 9), round(circle.residual_m, 9))
        ([2.0, 1.0], 0.5, 0.0)
    """
    points = _checks.as_float_array("xy", xy)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) < 3:
        raise ValueError(f"xy must have shape (N, 2) with N >= 3, got shape {points.shape}")
    _checks.finite("xy", points)
    keep = np.ones(len(points), dtype=bool)
    centre, radius = points.mean(axis=0), 0.0
    for _ in range(_ROUNDS):
        p = points[keep]
        A = np.column_stack([p, np.ones(len(p))])
        b = (p * p).sum(axis=1)
        solution = np.linalg.lstsq(A, b, rcond=None)[0]
        centre = 0.5 * solution[:2]
        radius = math.sqrt(max(float(solution[2] + centre @ centre), 0.0))
        residual = np.abs(np.linalg.norm(points - centre, axis=1) - radius)
        keep = residual <= max(3.0 * 1.4826 * float(np.median(residual[keep])), 1e-9)
    residual = np.abs(np.linalg.norm(points - centre, axis=1) - radius)
    return Circle(centre, radius, float(np.median(residual)))
