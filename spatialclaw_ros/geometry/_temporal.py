"""Per-pixel statistics over time: the median of a stack of depth images, its spread and its uncertainty."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spatialclaw_ros.geometry import _checks
from spatialclaw_ros.geometry._checks import FloatArray

# Robust sigma of a normal sample from its median absolute deviation.
_MAD_TO_SIGMA = 1.4826
# The median of n normal samples scatters about sqrt(pi / 2) ~ 1.25 times as much as their mean.
_MEDIAN_EFFICIENCY = 1.25


class TemporalMedian(NamedTuple):
    """Per-element median of samples over time, the samples' robust spread and their count.

    Attributes:
        median: the median of the finite samples (the mean of the middle two for an even count);
            NaN where there is none.
        spread: robust sigma of one sample, ``1.4826 * median(|sample - median|)``; 0 where there is
            no finite sample.
        count: how many finite samples each element has.
    """

    median: FloatArray
    spread: FloatArray
    count: NDArray[np.int_]

    @property
    def sigma(self) -> FloatArray:
        """Uncertainty of the median, ``1.25 * spread / sqrt(count)`` (0 where there is no sample)."""
        return _MEDIAN_EFFICIENCY * self.spread / np.sqrt(np.maximum(self.count, 1))


def _middle(ordered: FloatArray, count: NDArray[np.int_]) -> FloatArray:
    """Median of the first ``count`` values along axis 0 of ``ordered`` (sorted, missing ones last)."""
    low = np.take_along_axis(ordered, np.maximum(count - 1, 0)[None] // 2, axis=0)[0]
    upper = (np.maximum(count, 1)[None] // 2).clip(max=len(ordered) - 1)
    high = np.take_along_axis(ordered, upper, axis=0)[0]
    return np.where(count > 0, 0.5 * (low + high), np.nan)


def median_over_time(stack: ArrayLike) -> TemporalMedian:
    """Median, robust spread and count of the finite samples of each element of a stack.

    Convention:
        `stack` is (T, ...) with T >= 1: T samples over time of an array of any shape, e.g. T depth
        images (T, H, W) in metres of a camera that stands still; the results have the shape of one
        sample and its unit. NaN and inf samples are missing (a pixel without depth, or hidden by a
        passer-by in that frame). Sorting once, missing samples last, is much faster than
        ``np.nanmedian``.

    Example:
        >>> stats = median_over_time([[1.0, 2.0], [3.0, np.nan], [2.0, np.nan], [9.0, np.nan]])
        >>> (stats.median.tolist(), stats.count.tolist(), round(float(stats.spread[0]), 4))
        ([2.5, 2.0], [4, 1], 1.4826)
    """
    samples = _checks.as_float_array("stack", stack)
    if samples.ndim < 1 or len(samples) < 1:
        raise ValueError(f"stack must have shape (T, ...) with T >= 1, got shape {samples.shape}")
    finite = np.isfinite(samples)
    count = np.sum(finite, axis=0)
    # Sorted in place, NaN last; -inf would sort first, so every missing sample becomes NaN.
    ordered = np.where(finite, samples, np.nan)
    ordered.sort(axis=0)
    median = _middle(ordered, count)
    with np.errstate(invalid="ignore"):
        # |sample - median| is NaN or +inf for a missing sample: either sorts after the finite ones.
        deviations = np.abs(samples - median)
    deviations.sort(axis=0)
    spread = _MAD_TO_SIGMA * _middle(deviations, count)
    return TemporalMedian(median, np.nan_to_num(spread), count)
