"""Pinhole cameras: intrinsics, projection of optical-frame points to pixels, and depth back-projection."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from spatialclaw_ros.geometry import _checks
from spatialclaw_ros.geometry._checks import FloatArray


def _intrinsics(name: str, K: ArrayLike) -> FloatArray:
    matrix = _checks.matrix(name, K, (3, 3))
    if matrix[0, 0] <= 0.0 or matrix[1, 1] <= 0.0:
        raise ValueError(f"{name} must have positive focal lengths fx = {name}[0, 0] and fy = {name}[1, 1]")
    if not np.allclose(matrix[2], (0.0, 0.0, 1.0)) or matrix[1, 0] != 0.0:
        raise ValueError(f"{name} must be upper-triangular with last row [0, 0, 1]")
    return matrix


def project(points_cam: ArrayLike, K: ArrayLike) -> FloatArray:
    """Project points in the camera optical frame to pixel coordinates.

    Convention:
        Points are in the camera optical frame (REP-103: x right, y down, z forward), metres,
        shape (N, 3) or (3,). Pixels are (u, v) with u to the right (column) and v down (row);
        the centre of pixel (row r, column c) is at (u, v) = (c, r), so the image spans
        [-0.5, W - 0.5] x [-0.5, H - 0.5]. ``u = fx x / z + s y / z + cx``, ``v = fy y / z + cy``.
        Points with z <= 0 (behind the camera) get NaN pixels. Returns (N, 2) or (2,).

    Example:
        >>> K = [[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]]
        >>> project([0.2, -0.1, 2.0], K).tolist()
        [370.0, 215.0]
    """
    K_checked = _intrinsics("K", K)
    single = np.shape(points_cam) == (3,)
    P = _checks.points3("points_cam", points_cam)
    z = P[:, 2]
    in_front = z > 0.0
    safe_z = np.where(in_front, z, 1.0)
    uv1 = (P / safe_z[:, None]) @ K_checked.T
    pixels = np.where(in_front[:, None], uv1[:, :2], np.nan)
    return pixels[0] if single else pixels


def backproject(
    depth_m: ArrayLike, K: ArrayLike, mask: ArrayLike | None = None, stride: int = 1
) -> FloatArray:
    """Back-project a depth image to 3D points in the camera optical frame.

    Convention:
        `depth_m` is (H, W), metres along the optical axis (z, not ray length), as REP-118 depth
        images. Pixel (row r, column c) has its centre at (u, v) = (c, r); u right, v down. Points
        are in the camera optical frame (REP-103: x right, y down, z forward), metres. Pixels whose
        depth is NaN, inf or <= 0 are skipped, as are pixels where `mask` ((H, W), bool or
        non-zero) is False. `stride` keeps every stride-th row and column starting at (0, 0).
        Returns (N, 3) float64 in row-major pixel order.

    Example:
        >>> K = [[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]]
        >>> depth = np.zeros((480, 640))
        >>> depth[215, 370] = 2.0
        >>> backproject(depth, K).tolist()
        [[0.2, -0.1, 2.0]]
    """
    depth = _checks.image2d("depth_m", depth_m)
    K_checked = _intrinsics("K", K)
    step = _checks.positive_int("stride", stride)
    valid = np.isfinite(depth) & (depth > 0.0)
    if mask is not None:
        valid &= _checks.mask2d("mask", mask, depth.shape)
    if step > 1:
        sampled = np.zeros_like(valid)
        sampled[::step, ::step] = True
        valid &= sampled
    rows, cols = np.nonzero(valid)
    z = depth[rows, cols]
    fx, skew, cx = K_checked[0]
    fy, cy = K_checked[1, 1], K_checked[1, 2]
    y = (rows - cy) * z / fy
    x = ((cols - cx) * z - skew * y) / fx
    return np.stack([x, y, z], axis=1)


@dataclass(frozen=True, eq=False)
class PinholeCamera:
    """An ideal pinhole camera: intrinsic matrix and image size.

    Convention:
        `K` is the (3, 3) intrinsic matrix ``[[fx, s, cx], [0, fy, cy], [0, 0, 1]]`` in pixels;
        `width` and `height` in pixels. Pixel (row r, column c) has its centre at (u, v) = (c, r),
        u right, v down. Points are in the camera optical frame (REP-103: x right, y down,
        z forward). No distortion model: images must be rectified (or distortion negligible).

    Example:
        >>> cam = PinholeCamera.from_camera_info([500, 0, 320, 0, 500, 240, 0, 0, 1], 640, 480)
        >>> cam.project([0.0, 0.0, 1.0]).tolist()
        [320.0, 240.0]
    """

    K: FloatArray
    width: int
    height: int

    def __post_init__(self) -> None:
        """Check and freeze the intrinsics."""
        object.__setattr__(self, "K", _checks.read_only(_intrinsics("K", self.K).copy()))
        object.__setattr__(self, "width", _checks.positive_int("width", self.width))
        object.__setattr__(self, "height", _checks.positive_int("height", self.height))

    @classmethod
    def from_camera_info(cls, k: Sequence[float], width: int, height: int) -> PinholeCamera:
        """Build a camera from a sensor_msgs/CameraInfo `k` field (9 values, row-major).

        Convention:
            Uses K as is and ignores the distortion coefficients, so it is exact only for rectified
            images (or a camera whose `d` is all zeros). For `image_rect` topics pass the left 3x3
            of `p` instead, which holds the rectified intrinsics.

        Example:
            >>> PinholeCamera.from_camera_info([500, 0, 320, 0, 500, 240, 0, 0, 1], 640, 480).fx
            500.0
        """
        values = _checks.as_float_array("k", k)
        if values.shape != (9,):
            raise ValueError(f"k must hold 9 values (row-major 3x3), got shape {values.shape}")
        return cls(values.reshape(3, 3), width, height)

    @property
    def fx(self) -> float:
        """Focal length along u, pixels."""
        return float(self.K[0, 0])

    @property
    def fy(self) -> float:
        """Focal length along v, pixels."""
        return float(self.K[1, 1])

    @property
    def cx(self) -> float:
        """Principal point u, pixels (pixel centres at integer coordinates)."""
        return float(self.K[0, 2])

    @property
    def cy(self) -> float:
        """Principal point v, pixels (pixel centres at integer coordinates)."""
        return float(self.K[1, 2])

    def project(self, points_cam: ArrayLike) -> FloatArray:
        """Project optical-frame points to pixels; see the module-level `project` for the convention.

        Example:
            >>> cam = PinholeCamera(np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]]), 640, 480)
            >>> cam.project([[0.2, -0.1, 2.0]]).tolist()
            [[370.0, 215.0]]
        """
        return project(points_cam, self.K)

    def backproject(self, depth_m: ArrayLike, mask: ArrayLike | None = None, stride: int = 1) -> FloatArray:
        """Back-project a depth image of this camera's size; see the module-level `backproject`.

        Example:
            >>> cam = PinholeCamera(np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]]), 640, 480)
            >>> cam.backproject(np.full((480, 640), 1.0)).shape
            (307200, 3)
        """
        depth = _checks.image2d("depth_m", depth_m)
        if depth.shape != (self.height, self.width):
            raise ValueError(
                f"depth_m must have shape (height, width) = {(self.height, self.width)}, got {depth.shape}"
            )
        return backproject(depth, self.K, mask=mask, stride=stride)

    def in_image(self, pixels: ArrayLike) -> np.ndarray:
        """Whether pixels (N, 2) fall inside the image, i.e. u in [-0.5, W - 0.5), v in [-0.5, H - 0.5).

        Example:
            >>> cam = PinholeCamera(np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]]), 640, 480)
            >>> cam.in_image([[0.0, 0.0], [639.6, 10.0]]).tolist()
            [True, False]
        """
        uv = _checks.as_float_array("pixels", pixels)
        if uv.ndim != 2 or uv.shape[1] != 2:
            raise ValueError(f"pixels must have shape (N, 2), got shape {uv.shape}")
        with np.errstate(invalid="ignore"):
            return (
                (uv[:, 0] >= -0.5)
                & (uv[:, 0] < self.width - 0.5)
                & (uv[:, 1] >= -0.5)
                & (uv[:, 1] < self.height - 0.5)
            )

    def resized(self, width: int, height: int) -> PinholeCamera:
        """The same camera for the image resized to (width, height) pixels.

        Convention:
            Pixel centres at integer coordinates, so the image edge at -0.5 stays fixed:
            ``cx' = (cx + 0.5) * width / W - 0.5`` (same for cy), focal lengths scale by the same
            factors.

        Example:
            >>> cam = PinholeCamera(np.array([[500.0, 0, 319.5], [0, 500, 239.5], [0, 0, 1]]), 640, 480)
            >>> half = cam.resized(320, 240)
            >>> (half.fx, half.cx, half.cy)
            (250.0, 159.5, 119.5)
        """
        new_width = _checks.positive_int("width", width)
        new_height = _checks.positive_int("height", height)
        sx, sy = new_width / self.width, new_height / self.height
        K = self.K.copy()
        K[0, :2] *= sx
        K[1, 1] *= sy
        K[0, 2] = (self.K[0, 2] + 0.5) * sx - 0.5
        K[1, 2] = (self.K[1, 2] + 0.5) * sy - 0.5
        return PinholeCamera(K, new_width, new_height)
