"""Solid primitives of simulated scenes (oriented boxes, vertical cylinders) and their ray intersections.

Convention:
    A shape is defined in its own frame: centred at the origin, z up. An object places it in the world
    frame (REP-103, z up) by a centre (metres) and a yaw (radians, counter-clockwise about world z).
    Rays share one origin (the camera centre, world frame) and have un-normalised directions (N, 3);
    intersection parameters ``t`` are in units of those directions (the renderer passes directions
    whose optical z component is 1, so ``t`` is depth along the optical axis). Misses are ``inf``.
    Rays starting inside a shape do not hit it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from spatialclaw_ros.sim._checks import FloatArray, positive, vector


def yaw_matrix(yaw_rad: float) -> FloatArray:
    """Rotation (3, 3) about z by ``yaw_rad``: maps shape-frame vectors into the world frame."""
    c, s = np.cos(yaw_rad), np.sin(yaw_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class Box:
    """A box of edge lengths ``size_m`` = (x, y, z) along its own axes, in metres."""

    size_m: tuple[float, float, float]
    kind: Literal["box"] = "box"

    def __post_init__(self) -> None:
        size = vector("Box.size_m", self.size_m, 3)
        for axis, value in zip("xyz", size, strict=True):
            positive(f"Box.size_m[{axis}]", value)
        object.__setattr__(self, "size_m", size)

    @property
    def extent_m(self) -> tuple[float, float, float]:
        """Edge lengths (x, y, z) of the shape-frame bounding box, metres."""
        return self.size_m

    def intersect(
        self, origin: FloatArray, directions: FloatArray, centre: FloatArray, yaw_rad: float
    ) -> tuple[FloatArray, FloatArray]:
        """Nearest entry ``t`` (N,) of each ray into the box and the world-frame unit normals (N, 3) there.

        Slab test in the box frame; the normal is the face whose slab was entered last.
        """
        R = yaw_matrix(yaw_rad)
        o = R.T @ (origin - centre)
        d = directions @ R
        half = 0.5 * np.asarray(self.size_m)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / d
            t1 = (-half - o) * inv
            t2 = (half - o) * inv
        t_low = np.minimum(t1, t2)
        t_near = t_low.max(axis=1)
        t_far = np.maximum(t1, t2).min(axis=1)
        hit = (t_near <= t_far) & (t_near > 0.0)
        t = np.where(hit, t_near, np.inf)
        normals = np.zeros_like(directions)
        rows = np.flatnonzero(hit)
        axis = t_low[rows].argmax(axis=1)
        normals[rows, axis] = -np.sign(d[rows, axis])
        return t, normals @ R.T

    def corners(self, centre: FloatArray, yaw_rad: float) -> FloatArray:
        """The 8 world-frame corners (8, 3) of the box, metres."""
        return _box_corners(np.asarray(self.size_m), centre, yaw_rad)


@dataclass(frozen=True)
class Cylinder:
    """A cylinder with a vertical axis: radius and height in metres."""

    radius_m: float
    height_m: float
    kind: Literal["cylinder"] = "cylinder"

    def __post_init__(self) -> None:
        object.__setattr__(self, "radius_m", positive("Cylinder.radius_m", self.radius_m))
        object.__setattr__(self, "height_m", positive("Cylinder.height_m", self.height_m))

    @property
    def extent_m(self) -> tuple[float, float, float]:
        """Edge lengths (x, y, z) of the shape-frame bounding box, metres: (2r, 2r, height)."""
        return (2.0 * self.radius_m, 2.0 * self.radius_m, self.height_m)

    def intersect(
        self, origin: FloatArray, directions: FloatArray, centre: FloatArray, yaw_rad: float
    ) -> tuple[FloatArray, FloatArray]:
        """Nearest entry ``t`` (N,) of each ray into the cylinder and the world-frame unit normals (N, 3).

        The side is a quadratic in ``t``; a cap is visible only from beyond its plane. The yaw
        does not change a vertical cylinder.
        """
        o = origin - centre
        dx, dy, dz = directions[:, 0], directions[:, 1], directions[:, 2]
        r, half_h = self.radius_m, 0.5 * self.height_m
        a = dx * dx + dy * dy
        b = 2.0 * (o[0] * dx + o[1] * dy)
        c = o[0] ** 2 + o[1] ** 2 - r * r
        disc = b * b - 4.0 * a * c
        with np.errstate(divide="ignore", invalid="ignore"):
            t_side = (-b - np.sqrt(disc)) / (2.0 * a)
        side_ok = (disc >= 0.0) & (a > 0.0) & (t_side > 0.0) & (np.abs(o[2] + t_side * dz) <= half_h)
        t_side = np.where(side_ok, t_side, np.inf)
        t_cap = np.full_like(t_side, np.inf)
        cap_sign = 0.0
        if abs(o[2]) > half_h:
            cap_sign = float(np.sign(o[2]))
            with np.errstate(divide="ignore", invalid="ignore"):
                t = (cap_sign * half_h - o[2]) / dz
            x, y = o[0] + t * dx, o[1] + t * dy
            t_cap = np.where((t > 0.0) & (x * x + y * y <= r * r), t, np.inf)
        on_cap = t_cap < t_side
        t = np.where(on_cap, t_cap, t_side)
        normals = np.zeros_like(directions)
        rows = np.flatnonzero(np.isfinite(t) & ~on_cap)
        normals[rows, 0] = (o[0] + t[rows] * dx[rows]) / r
        normals[rows, 1] = (o[1] + t[rows] * dy[rows]) / r
        normals[on_cap, 2] = cap_sign
        return t, normals

    def corners(self, centre: FloatArray, yaw_rad: float) -> FloatArray:
        """The 8 world-frame corners (8, 3) of a box enclosing the cylinder, metres."""
        return _box_corners(np.asarray(self.extent_m), centre, 0.0)


Shape = Box | Cylinder


def _box_corners(size: FloatArray, centre: FloatArray, yaw_rad: float) -> FloatArray:
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=float)
    return (signs * (0.5 * size)) @ yaw_matrix(yaw_rad).T + centre
