"""Velocity of a tracked object: the latest straight stretch of its track and the Theil–Sen slope over it."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from spatialclaw_ros.geometry import _checks
from spatialclaw_ros.geometry._checks import FloatArray


def _track(stamps_s: ArrayLike, positions: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Finite stamps (N,) and positions (N, 3) of one track, N >= 1."""
    stamps = _checks.finite("stamps_s", _checks.as_float_array("stamps_s", stamps_s))
    P = _checks.points3("positions", positions)
    if stamps.shape != (len(P),):
        raise ValueError(f"stamps_s must have shape ({len(P)},) to match positions, got {stamps.shape}")
    return stamps, P


def theil_sen_velocity(stamps_s: ArrayLike, positions: ArrayLike) -> FloatArray:
    """Velocity of a track, robust to a few bad positions: per axis, the median of pairwise slopes.

    Convention:
        `stamps_s` (N,) seconds and `positions` (N, 3) metres in one fixed frame (the world);
        returns (3,) metres per second in that frame. Every pair of samples with distinct stamps
        gives a slope ``(p_j - p_i) / (t_j - t_i)``; pairs with equal stamps are skipped, and at
        least one pair must remain. A few positions pulled aside (the object partly hidden at that
        tick) do not tilt it as they tilt a least-squares line.

    Example:
        >>> track = [[0.0, 0.0, 0.0], [1.0, 2.0, 0.0], [2.0, 9.0, 0.0], [3.0, 6.0, 0.0]]
        >>> theil_sen_velocity([0.0, 1.0, 2.0, 3.0], track).tolist()
        [1.0, 2.0, 0.0]
    """
    stamps, P = _track(stamps_s, positions)
    first, second = np.triu_indices(len(stamps), k=1)
    dt = stamps[second] - stamps[first]
    # A pair's slope is the same whichever of its samples comes first: any sample order will do.
    apart = dt != 0.0
    if not np.any(apart):
        raise ValueError("a velocity needs two samples with distinct stamps")
    return np.median((P[second] - P[first])[apart] / dt[apart, None], axis=0)


def latest_straight_stretch(
    stamps_s: ArrayLike,
    positions: ArrayLike,
    min_samples: int = 3,
    reversal_cos: float = 0.0,
    turn_speed_ratio: float = 0.8,
) -> slice:
    """The samples of a track's latest straight stretch: after its last reversal, without turning ends.

    Convention:
        `stamps_s` (N,) seconds, increasing, and `positions` (N, 3) metres in a world frame with z
        up; only the horizontal (x, y) motion counts. A reversal is two consecutive steps whose
        cosine is below `reversal_cos`; the stretch starts one sample after the last one (the turn
        happened between that sample and the one before, so it may belong to either stretch).
        When fewer than `min_samples` samples follow it, the stretch before it is used instead
        (its turning sample dropped, at least two samples). Then an end sample whose step is
        slower than `turn_speed_ratio` times the stretch's median step speed is dropped (the
        walker turned round within that step: no step reverses, but the chord is shorter than the
        walk), first at the end, then at the start, while more than `min_samples` remain. Returns
        a slice of the samples.

    Example:
        >>> x = [0.0, 1.0, 2.0, 3.0, 2.0, 1.0, 0.0, -1.0]
        >>> latest_straight_stretch(np.arange(8.0), [[v, 0.0, 0.0] for v in x])
        slice(4, 8, None)
    """
    stamps, P = _track(stamps_s, positions)
    fewest = _checks.positive_int("min_samples", min_samples)
    steps = np.diff(P[:, :2], axis=0)
    start = 0
    for i in range(len(steps) - 1, 0, -1):
        a, b = steps[i - 1], steps[i]
        norms = float(np.linalg.norm(a) * np.linalg.norm(b))
        if norms > 0.0 and float(a @ b) / norms < reversal_cos:
            start = i + 1
            break
    if len(stamps) - start < fewest and start > 0:
        stretch = slice(0, max(start - 1, 2))
    else:
        stretch = slice(start, len(stamps))
    return _without_turning_ends(stamps, P, stretch, fewest, turn_speed_ratio)


def _without_turning_ends(
    stamps: FloatArray, P: FloatArray, stretch: slice, fewest: int, turn_speed_ratio: float
) -> slice:
    """``stretch`` without an end sample whose step is much slower than the stretch's median step."""
    start, stop = stretch.start, stretch.stop
    dt = np.diff(stamps[start:stop])
    lengths = np.linalg.norm(np.diff(P[start:stop, :2], axis=0), axis=1)
    if len(dt) < fewest or np.any(dt <= 0.0):
        return stretch
    speeds = lengths / dt
    typical = float(np.median(speeds))
    if typical <= 0.0:
        return stretch
    if speeds[-1] < turn_speed_ratio * typical and stop - start > fewest:
        stop -= 1
    if speeds[0] < turn_speed_ratio * typical and stop - start > fewest:
        start += 1
    return slice(start, stop)
