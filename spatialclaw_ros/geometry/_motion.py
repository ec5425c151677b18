"""Motion from stamped positions: displacement, path length, speed and heading."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from spatialclaw_ros.geometry import _checks
from spatialclaw_ros.geometry._checks import FloatArray


class Motion(NamedTuple):
    """Summary of a trajectory (SI units; vectors in the positions' frame)."""

    duration_s: float
    displacement: FloatArray
    distance_m: float
    path_length_m: float
    mean_speed_mps: float
    mean_velocity: FloatArray
    heading_rad: float


def smooth_positions(positions: ArrayLike, window: int = 1) -> FloatArray:
    """Running per-axis median of positions, to remove jitter and single-frame outliers.

    Convention:
        `positions` (N, 3) metres, time-ordered; `window` an odd number of samples (1 = no
        smoothing). Near the ends the window shrinks symmetrically, so the first and last samples
        are kept and a constant-velocity track is left unchanged. Returns (N, 3).

    Example:
        >>> smooth_positions([[0, 0, 0], [1, 0, 0], [9, 0, 0], [3, 0, 0], [4, 0, 0]], window=3)[:, 0].tolist()
        [0.0, 1.0, 3.0, 4.0, 4.0]
    """
    P = _checks.points3("positions", positions)
    size = _checks.positive_int("window", window)
    if size % 2 == 0:
        raise ValueError(f"window must be odd, got {window}")
    n = P.shape[0]
    half = size // 2
    if half == 0:
        return P.copy()
    out = np.empty_like(P)
    for i in range(n):
        h = min(half, i, n - 1 - i)
        out[i] = np.median(P[i - h : i + h + 1], axis=0)
    return out


def path_length(positions: ArrayLike) -> float:
    """Sum of the straight segments between consecutive positions, metres.

    Convention:
        `positions` (N, 3) metres, time-ordered. One position gives 0.

    Example:
        >>> path_length([[0, 0, 0], [3, 4, 0], [3, 4, 1]])
        6.0
    """
    P = _checks.points3("positions", positions)
    return float(np.linalg.norm(np.diff(P, axis=0), axis=1).sum())


def heading(vector: ArrayLike, up: ArrayLike, forward: ArrayLike) -> float:
    """Heading of a direction in the horizontal plane, radians in (-pi, pi].

    Convention:
        The horizontal plane is normal to `up`; 0 is `forward` (projected onto that plane) and
        angles grow counter-clockwise seen from above, i.e. towards ``left = up x forward``:
        ``atan2(v . left, v . forward)``. With REP-103 world axes (up = z, forward = x) this is the
        usual yaw ``atan2(vy, vx)`` (+pi/2 = +y, left). In a level camera's optical frame
        (up = (0, -1, 0), forward = (0, 0, 1)) +pi/2 is the camera's left (-x). Returns NaN when
        the vector has no horizontal part.

    Example:
        >>> round(heading([0.0, 2.0, 5.0], up=[0, 0, 1], forward=[1, 0, 0]), 6)
        1.570796
    """
    v = _checks.vector3("vector", vector)
    z = _checks.unit_vector3("up", up)
    f = _checks.vector3("forward", forward)
    f_horizontal = f - (f @ z) * z
    norm = float(np.linalg.norm(f_horizontal))
    if norm < 1e-9 * max(1.0, float(np.linalg.norm(f))):
        raise ValueError("forward must not be parallel to up")
    f_horizontal /= norm
    left = np.cross(z, f_horizontal)
    x, y = float(v @ f_horizontal), float(v @ left)
    if np.hypot(x, y) < 1e-12:
        return float("nan")
    return float(np.arctan2(y, x))


def summarize_motion(
    stamps_s: ArrayLike,
    positions: ArrayLike,
    up: ArrayLike,
    forward: ArrayLike,
    smoothing_window: int = 1,
) -> Motion:
    """Displacement, path length, mean speed and heading of a tracked object.

    Convention:
        `stamps_s` (N,) seconds and `positions` (N, 3) metres in one fixed frame (e.g. the
        snapshot's world frame), N >= 2; samples are sorted by stamp and stamps must be distinct.
        Positions are first smoothed with `smooth_positions(window=smoothing_window)`.
        displacement = last - first; distance_m = |displacement|; mean_speed_mps = path length /
        duration (distance travelled along the path); mean_velocity = displacement / duration;
        heading_rad = `heading(displacement, up, forward)` (see there), NaN if no horizontal
        motion.

    Example:
        >>> track = [[0, 0, 0], [1, 1, 0], [2, 2, 0]]
        >>> m = summarize_motion([0.0, 1.0, 2.0], track, up=[0, 0, 1], forward=[1, 0, 0])
        >>> (round(m.mean_speed_mps, 6), round(m.heading_rad, 6))
        (1.414214, 0.785398)
    """
    stamps = _checks.finite("stamps_s", _checks.as_float_array("stamps_s", stamps_s))
    P = _checks.points3("positions", positions, min_count=2)
    if stamps.shape != (P.shape[0],):
        raise ValueError(
            f"stamps_s must have shape (N,) = ({P.shape[0]},) to match positions, got {stamps.shape}"
        )
    order = np.argsort(stamps, kind="stable")
    stamps, P = stamps[order], P[order]
    if np.any(np.diff(stamps) <= 0.0):
        raise ValueError("stamps_s must be distinct")
    smoothed = smooth_positions(P, smoothing_window)
    duration = float(stamps[-1] - stamps[0])
    displacement = smoothed[-1] - smoothed[0]
    length = path_length(smoothed)
    return Motion(
        duration_s=duration,
        displacement=displacement,
        distance_m=float(np.linalg.norm(displacement)),
        path_length_m=length,
        mean_speed_mps=length / duration,
        mean_velocity=displacement / duration,
        heading_rad=heading(displacement, up, forward),
    )
