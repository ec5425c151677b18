"""Relative direction of one object from another as a viewer sees it: left/right/front/behind/above/below."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from spatialclaw_ros.geometry import _checks
from spatialclaw_ros.geometry._checks import FloatArray

DIRECTIONS = ("left", "right", "front", "behind", "above", "below")


class Direction(NamedTuple):
    """Where B lies relative to A in the viewer's axes (metres, radians); `primary` is the dominant axis."""

    primary: str
    right_m: float
    away_m: float
    up_m: float
    azimuth_rad: float
    elevation_rad: float


def _reference_point(name: str, value: ArrayLike) -> FloatArray:
    return np.median(_checks.points3(name, value), axis=0)


def _viewer_axes(
    point_a: FloatArray,
    T_world_camera: ArrayLike | None,
    viewer_position: ArrayLike | None,
    up: ArrayLike | None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    if (T_world_camera is None) == (viewer_position is None):
        raise ValueError("give exactly one of T_world_camera or viewer_position")
    if T_world_camera is not None:
        R = _checks.rigid_transform("T_world_camera", T_world_camera)[:3, :3]
        if up is None:
            return R[:, 0], R[:, 2], -R[:, 1]
        view = R[:, 2]
    else:
        if up is None:
            raise ValueError("up is required with viewer_position")
        view = point_a - _checks.vector3("viewer_position", viewer_position)
    z = _checks.unit_vector3("up", up)
    away = view - (view @ z) * z
    norm = float(np.linalg.norm(away))
    if norm < 1e-9:
        raise ValueError("the viewing direction is parallel to up: left/right and front/behind are undefined")
    away /= norm
    return np.cross(away, z), away, z


def relative_direction(
    point_a: ArrayLike,
    point_b: ArrayLike,
    T_world_camera: ArrayLike | None = None,
    viewer_position: ArrayLike | None = None,
    up: ArrayLike | None = None,
) -> Direction:
    """Direction of B from A as seen by a viewer: "is B left of / in front of / above A?".

    Convention:
        A and B are (3,) points or (N, 3) point sets (reduced to their per-axis median), metres,
        in one frame. The viewer is given by exactly one of:

        - `T_world_camera` (4, 4): a camera pose mapping optical-frame points (x right, y down,
          z forward, REP-103) into the points' frame. Axes: right = camera +x, away = camera +z
          (optical axis), up = camera -y. If `up` is also given, the axes are levelled: up = `up`,
          away = optical axis projected on the horizontal plane.
        - `viewer_position` (3,) with `up` (3,): a person or robot looking at A. Away = the
          horizontal direction from the viewer to A.

        right = away x up, i.e. the viewer's right hand while facing the scene. The offset
        B - A is split into right_m, away_m, up_m. `primary` is the component with the largest
        magnitude: right_m > 0 "right", < 0 "left"; away_m < 0 "front" (B is nearer the viewer
        than A), > 0 "behind" (farther); up_m > 0 "above", < 0 "below".
        azimuth_rad = atan2(right_m, away_m) (0: straight behind A, +pi/2: right, ±pi: in front);
        elevation_rad = atan2(up_m, hypot(right_m, away_m)).

    Example:
        >>> d = relative_direction([0.0, 0.0, 2.0], [-0.5, 0.0, 2.0], T_world_camera=np.eye(4))
        >>> (d.primary, d.right_m)
        ('left', -0.5)
    """
    a = _reference_point("point_a", point_a)
    b = _reference_point("point_b", point_b)
    right, away, z = _viewer_axes(a, T_world_camera, viewer_position, up)
    offset = b - a
    components = (float(offset @ right), float(offset @ away), float(offset @ z))
    if max(abs(c) for c in components) == 0.0:
        raise ValueError("point_a and point_b coincide: no direction")
    axis = int(np.argmax(np.abs(components)))
    names = (("left", "right"), ("front", "behind"), ("below", "above"))
    primary = names[axis][1 if components[axis] > 0.0 else 0]
    r, f, u = components
    return Direction(
        primary=primary,
        right_m=r,
        away_m=f,
        up_m=u,
        azimuth_rad=float(np.arctan2(r, f)),
        elevation_rad=float(np.arctan2(u, np.hypot(r, f))),
    )
