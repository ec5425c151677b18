"""Scale alignment: relative depth to metric depth, and similarity (Sim(3)) between point sets."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from spatialclaw_ros.geometry import _checks
from spatialclaw_ros.geometry._checks import FloatArray


class Similarity(NamedTuple):
    """``dst ≈ scale * rotation @ src + translation``, with the RMS residual of that fit (metres)."""

    scale: float
    rotation: FloatArray
    translation: FloatArray
    rms_m: float

    def apply(self, points: ArrayLike) -> FloatArray:
        """Map (N, 3) or (3,) points from the source frame into the destination frame."""
        single = np.shape(points) == (3,)
        P = _checks.points3("points", points)
        out = self.scale * P @ self.rotation.T + self.translation
        return out[0] if single else out

    def as_matrix(self) -> FloatArray:
        """The (4, 4) matrix ``[[s R, t], [0, 1]]`` (not rigid unless scale == 1)."""
        M = np.eye(4)
        M[:3, :3] = self.scale * self.rotation
        M[:3, 3] = self.translation
        return M


def median_depth_scale(
    relative_depth: ArrayLike, metric_depth_m: ArrayLike, mask: ArrayLike | None = None
) -> float:
    """Scale that turns an up-to-scale depth map into metres, from a metric depth sensor.

    Convention:
        Both maps are (H, W) on the same pixel grid (resize first if needed). `relative_depth` must
        be proportional to depth (not inverse depth/disparity). A pixel counts when both values are
        finite and > 0 and `mask` ((H, W), bool or non-zero) is set there; returns
        ``median(metric / relative)`` over those pixels, so ``scale * relative_depth`` is in metres.
        The median ignores sensor holes and outliers up to half the pixels.

    Example:
        >>> rel = np.array([[1.0, 2.0], [4.0, 1.0]])
        >>> metric = np.array([[2.0, 4.0], [8.0, np.nan]])
        >>> median_depth_scale(rel, metric)
        2.0
    """
    relative = _checks.image2d("relative_depth", relative_depth)
    metric = _checks.image2d("metric_depth_m", metric_depth_m)
    if metric.shape != relative.shape:
        raise ValueError(
            f"metric_depth_m must have the shape of relative_depth {relative.shape}, got {metric.shape}"
        )
    valid = np.isfinite(relative) & np.isfinite(metric) & (relative > 0.0) & (metric > 0.0)
    if mask is not None:
        valid &= _checks.mask2d("mask", mask, relative.shape)
    if not np.any(valid):
        raise ValueError("no pixel has valid (finite, > 0) depth in both maps inside the mask")
    return float(np.median(metric[valid] / relative[valid]))


def umeyama(src: ArrayLike, dst: ArrayLike, with_scale: bool = True) -> Similarity:
    """Least-squares similarity (or rigid) transform between corresponding points (Umeyama 1991).

    Convention:
        `src` and `dst` are (N, 3) metres, row i of one corresponding to row i of the other,
        N >= 3 and not all collinear. Finds scale s > 0, rotation R (proper, det +1) and
        translation t minimising ``sum |dst_i - (s R src_i + t)|^2``; `with_scale=False` fixes
        s = 1 (rigid). Typical use: bring a reconstruction (up to scale) into the world frame from
        matched camera centres or points. rms_m is the root-mean-square residual in dst units.

    Example:
        >>> src = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
        >>> fit = umeyama(src, 2.0 * src + [1.0, 0.0, 0.0])
        >>> (round(fit.scale, 6), np.round(fit.translation, 6).tolist())
        (2.0, [1.0, 0.0, 0.0])
    """
    A = _checks.points3("src", src, min_count=3)
    B = _checks.points3("dst", dst, min_count=3)
    if A.shape != B.shape:
        raise ValueError(f"dst must have the shape of src {A.shape}, got {B.shape}")
    mean_a, mean_b = A.mean(axis=0), B.mean(axis=0)
    Ac, Bc = A - mean_a, B - mean_b
    covariance = Bc.T @ Ac / A.shape[0]
    U, singular, Vt = np.linalg.svd(covariance)
    if singular[1] < 1e-12 * max(singular[0], 1e-300):
        raise ValueError("src and dst must not be collinear: the rotation is undetermined")
    signs = np.ones(3)
    if np.linalg.det(U) * np.linalg.det(Vt) < 0.0:
        signs[2] = -1.0
    R = U @ np.diag(signs) @ Vt
    variance_a = float((Ac**2).sum() / A.shape[0])
    scale = float((singular * signs).sum() / variance_a) if with_scale else 1.0
    t = mean_b - scale * R @ mean_a
    residual = B - (scale * A @ R.T + t)
    rms = float(np.sqrt((residual**2).sum(axis=1).mean()))
    return Similarity(scale, R, t, rms)
