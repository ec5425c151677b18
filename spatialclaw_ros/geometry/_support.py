"""Supporting surfaces: the height an upright object stands on, and its box lowered onto it."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from spatialclaw_ros.geometry import _checks
from spatialclaw_ros.geometry._boxes import Box3D
from spatialclaw_ros.geometry._transforms import UP_BODY

# Fewest scene points below a footprint that make a support.
_MIN_POINTS = 10
# Height bins of the search for the support's layer, metres (then smoothed over three bins).
_BIN_M = 0.01
# The support's height is the median of the points within this of its layer's bin centre, metres.
_LAYER_HALF_THICKNESS_M = 0.02


def _upright(name: str, box: Box3D) -> Box3D:
    if not np.allclose(box.rotation[:, 2], UP_BODY):
        raise ValueError(f"{name} must be upright: its z axis along world z (0, 0, 1)")
    return box


def support_height(
    box: Box3D, scene_points: ArrayLike, margin_m: float = 0.12, depth_m: float = 0.3
) -> float | None:
    """Height of the surface an upright box stands on, metres; None when too few points lie below it.

    Convention:
        World frame, z up (REP-103), metres. `box` is upright (its z axis is world z) and its
        bottom, ``center[2] - size[2] / 2``, is where the object's lowest seen point is;
        `scene_points` (N, 3) are every point the cameras see. The points within `margin_m` of
        the footprint (horizontally, along the box's axes) and at most `depth_m` below the bottom
        are binned in height (1 cm, smoothed over three bins); the support is the highest
        well-filled layer (at least a third of the fullest bin: a floor, a shelf, a table top,
        not a few stray points), refined to the median height of its points within 2 cm.

    Example:
        >>> box = Box3D(center=[0.0, 0.0, 1.0], size=[0.4, 0.4, 0.6])
        >>> xs, ys = np.meshgrid(np.linspace(-0.5, 0.5, 11), np.linspace(-0.5, 0.5, 11))
        >>> table = np.column_stack([xs.ravel(), ys.ravel(), np.full(121, 0.65)])
        >>> floor = table - [0.0, 0.0, 0.65]
        >>> support_height(box, np.vstack([table, floor]))
        0.65
    """
    _upright("box", box)
    points = _checks.points3("scene_points", scene_points)
    bottom = box.center[2] - 0.5 * box.size[2]
    half = 0.5 * box.size[:2] + float(margin_m)
    local = box.to_local(points)
    near = (np.abs(local[:, 0]) <= half[0]) & (np.abs(local[:, 1]) <= half[1])
    z = points[near, 2]
    z = z[(z < bottom) & (z >= bottom - float(depth_m))]
    if z.size < _MIN_POINTS:
        return None
    counts, edges = np.histogram(z, bins=max(int(np.ceil(np.ptp(z) / _BIN_M)), 1))
    counts = np.convolve(np.pad(counts, 1), np.ones(3), mode="valid")
    # The highest layer that holds at least a third of the fullest (smoothed) bin's points.
    layer = int(np.flatnonzero(counts >= counts.max() / 3.0)[-1])
    centre = 0.5 * (edges[layer] + edges[layer + 1])
    return float(np.median(z[np.abs(z - centre) <= _LAYER_HALF_THICKNESS_M]))


def rest_on_support(box: Box3D, support_z: float | None, reach_m: float) -> Box3D:
    """The upright box with its bottom lowered onto its support when the gap is at most `reach_m`.

    Convention:
        World frame, z up, metres. `box` is upright (its z axis is world z); `support_z` the
        support's height (``support_height``; None: no support found). The box keeps its top,
        footprint and rotation; its bottom moves down to `support_z` when that lies between
        ``bottom - reach_m`` and the bottom, else stays (a support farther down is not the
        object's: it stands on something no camera sees, or floats).

    Example:
        >>> box = Box3D(center=[0.0, 0.0, 0.5], size=[1.0, 1.0, 0.8])
        >>> rested = rest_on_support(box, 0.05, reach_m=0.1)
        >>> (np.round(rested.center, 9).tolist(), np.round(rested.size, 9).tolist())
        ([0.0, 0.0, 0.475], [1.0, 1.0, 0.85])
    """
    _upright("box", box)
    bottom = box.center[2] - 0.5 * box.size[2]
    top = box.center[2] + 0.5 * box.size[2]
    if support_z is not None and bottom - float(reach_m) <= support_z <= bottom:
        bottom = support_z
    size = np.array([box.size[0], box.size[1], top - bottom])
    center = np.array([box.center[0], box.center[1], 0.5 * (top + bottom)])
    return Box3D(center=center, size=size, rotation=box.rotation)
