"""3D boxes around point sets: axis-aligned, gravity-aligned (yaw only) and fully oriented (PCA)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spatialclaw_ros.geometry import _checks
from spatialclaw_ros.geometry._checks import FloatArray
from spatialclaw_ros.geometry._transforms import matrix_to_quat

# Corner i has sign (-1 or +1) on box axis k given by bit k of i.
_CORNER_SIGNS = np.array([[1.0 if i >> k & 1 else -1.0 for k in range(3)] for i in range(8)])


@dataclass(frozen=True, eq=False)
class Box3D:
    """An oriented 3D box.

    Convention:
        `center` (3,) metres and `rotation` (3, 3) are in the frame of the points the box was
        built from; the columns of `rotation` are the box's own x, y, z axes in that frame.
        `size` (3,) is the full edge length along each box axis, metres (not half extents).
        A point p is inside when ``|rotation.T @ (p - center)| <= size / 2`` on every axis.

    Example:
        >>> box = Box3D(center=[0.0, 0.0, 0.5], size=[2.0, 1.0, 1.0])
        >>> (box.volume, box.contains([[0.9, 0.0, 0.5], [1.1, 0.0, 0.5]]).tolist())
        (2.0, [True, False])
    """

    center: FloatArray
    size: FloatArray
    rotation: FloatArray = field(default_factory=lambda: np.eye(3))

    def __post_init__(self) -> None:
        """Check shapes, reject negative sizes, freeze the arrays."""
        size = _checks.vector3("size", self.size).copy()
        if np.any(size < 0.0):
            raise ValueError("size must be >= 0 on every axis")
        object.__setattr__(self, "center", _checks.read_only(_checks.vector3("center", self.center).copy()))
        object.__setattr__(self, "size", _checks.read_only(size))
        object.__setattr__(
            self, "rotation", _checks.read_only(_checks.rotation("rotation", self.rotation).copy())
        )

    @property
    def volume(self) -> float:
        """Volume, cubic metres."""
        return float(np.prod(self.size))

    @property
    def quaternion(self) -> FloatArray:
        """Orientation as an (x, y, z, w) quaternion with w >= 0 (geometry_msgs/Pose order)."""
        return matrix_to_quat(self.rotation)

    def corners(self) -> FloatArray:
        """The 8 corners, (8, 3) metres in the box's parent frame.

        Convention:
            Corner i lies at ``center + rotation @ (signs * size / 2)``, where signs[k] is +1 if bit
            k of i is set and -1 otherwise: corner 0 is (-, -, -), corner 1 (+, -, -), corner 7
            (+, +, +) along the box's own axes.

        Example:
            >>> Box3D(center=[0.0, 0.0, 0.0], size=[2.0, 2.0, 2.0]).corners()[[0, 7]].tolist()
            [[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]]
        """
        return self.center + (_CORNER_SIGNS * (self.size / 2.0)) @ self.rotation.T

    def to_local(self, points: ArrayLike) -> FloatArray:
        """Points (N, 3) expressed in the box's own frame (origin at the centre, box axes).

        Example:
            >>> Box3D(center=[1.0, 0.0, 0.0], size=[1.0, 1.0, 1.0]).to_local([[1.0, 2.0, 3.0]]).tolist()
            [[0.0, 2.0, 3.0]]
        """
        P = _checks.points3("points", points)
        return (P - self.center) @ self.rotation

    def contains(self, points: ArrayLike, margin_m: float = 0.0) -> NDArray[np.bool_]:
        """Which points (N, 3) lie inside the box grown by `margin_m` on every face; (N,) bool.

        Example:
            >>> box = Box3D(center=[0.0, 0.0, 0.0], size=[1.0, 1.0, 1.0])
            >>> box.contains([[0.6, 0, 0]], margin_m=0.2).tolist()
            [True]
        """
        local = self.to_local(points)
        return np.all(np.abs(local) <= self.size / 2.0 + float(margin_m), axis=1)


def _extent_box(P: FloatArray, axes: FloatArray, trim_fraction: float) -> Box3D:
    local = P @ axes
    if trim_fraction > 0.0:
        low = np.quantile(local, trim_fraction, axis=0)
        high = np.quantile(local, 1.0 - trim_fraction, axis=0)
    else:
        low, high = local.min(axis=0), local.max(axis=0)
    return Box3D(center=axes @ ((low + high) / 2.0), size=high - low, rotation=axes)


def axis_aligned_box(points: ArrayLike, trim_fraction: float = 0.0) -> Box3D:
    """Axis-aligned bounding box of a point set, in the points' own frame.

    Convention:
        `points` (N, 3) metres; the box's rotation is the identity. `trim_fraction` in [0, 0.5)
        drops that quantile of points at each end of each axis (robust extents for noisy depth).

    Example:
        >>> box = axis_aligned_box([[0, 0, 0], [2, 1, 3]])
        >>> (box.center.tolist(), box.size.tolist())
        ([1.0, 0.5, 1.5], [2.0, 1.0, 3.0])
    """
    P = _checks.points3("points", points)
    trim = _checks.fraction("trim_fraction", trim_fraction, upper=0.5)
    return _extent_box(P, np.eye(3), trim)


def _min_area_yaw(xy: FloatArray) -> float:
    # Imported here: scipy.spatial costs ~0.2 s to import, which plain users of the package skip.
    from scipy.spatial import ConvexHull, QhullError

    try:
        hull = xy[ConvexHull(xy).vertices]
    except QhullError:
        # Fewer than three points or all on one line: align x with the line (zero-area footprint).
        _, _, vt = np.linalg.svd(xy - xy.mean(axis=0), full_matrices=False)
        return float(np.mod(np.arctan2(vt[0, 1], vt[0, 0]), np.pi / 2.0))
    # The minimum-area rectangle has a side collinear with a hull edge: test every edge direction.
    edges = np.roll(hull, -1, axis=0) - hull
    angles = np.mod(np.arctan2(edges[:, 1], edges[:, 0]), np.pi / 2.0)
    c, s = np.cos(angles), np.sin(angles)
    along = hull @ np.stack([c, s])
    across = hull @ np.stack([-s, c])
    areas = np.ptp(along, axis=0) * np.ptp(across, axis=0)
    return float(angles[int(np.argmin(areas))])


def _horizontal_basis(up: FloatArray) -> tuple[FloatArray, FloatArray]:
    helper = np.eye(3)[int(np.argmin(np.abs(up)))]
    e1 = np.cross(helper, up)
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(up, e1)


def gravity_aligned_box(points: ArrayLike, up: ArrayLike, trim_fraction: float = 0.0) -> Box3D:
    """Smallest-footprint box that stands upright: it may turn only about `up` (yaw).

    Convention:
        `points` (N, 3) metres and `up` (3,) (any length, pointing away from gravity) in the same
        frame: e.g. `UP_BODY` (0, 0, 1) for a REP-103 world/body frame, `UP_OPTICAL` (0, -1, 0)
        for a level camera's optical frame. The footprint is the minimum-area rectangle of the
        points projected on the plane normal to `up`. Box axes: x along the longer footprint side,
        y = up x x, z = up; so size = (length, width, height). `trim_fraction` in [0, 0.5) trims
        that quantile at both ends of each box axis after the yaw is chosen.

    Example:
        >>> P = [[0, 0, 0], [2, 0, 0], [0, 1, 0], [2, 1, 0], [0, 0, 3]]
        >>> np.round(gravity_aligned_box(P, up=[0, 0, 1]).size, 6).tolist()
        [2.0, 1.0, 3.0]
    """
    P = _checks.points3("points", points)
    z_axis = _checks.unit_vector3("up", up)
    trim = _checks.fraction("trim_fraction", trim_fraction, upper=0.5)
    e1, e2 = _horizontal_basis(z_axis)
    xy = np.stack([P @ e1, P @ e2], axis=1)
    yaw = _min_area_yaw(xy)
    x_axis = np.cos(yaw) * e1 + np.sin(yaw) * e2
    y_axis = np.cross(z_axis, x_axis)
    horizontal = np.stack([P @ x_axis, P @ y_axis], axis=1)
    spans = horizontal.max(axis=0) - horizontal.min(axis=0)
    if spans[1] > spans[0]:
        x_axis, y_axis = y_axis, -x_axis
    return _extent_box(P, np.stack([x_axis, y_axis, z_axis], axis=1), trim)


def oriented_box(points: ArrayLike, trim_fraction: float = 0.0) -> Box3D:
    """Box along the principal axes of a point set (PCA), free in all three rotations.

    Convention:
        `points` (N, 3) metres, N >= 3. Box x is the direction of largest spread, z of smallest;
        the rotation is right-handed (det +1); each axis's sign is chosen so that its largest
        absolute component is positive (deterministic output). Extents are the min/max of the
        points along each axis (quantiles when `trim_fraction` > 0); the centre is the middle of
        those extents, not the mean.

    Example:
        >>> P = [[x, y, 0.0] for x in (-2.0, 2.0) for y in (-0.5, 0.5)] + [[0.0, 0.0, 0.1]]
        >>> np.round(oriented_box(P).size, 6).tolist()
        [4.0, 1.0, 0.1]
    """
    P = _checks.points3("points", points, min_count=3)
    trim = _checks.fraction("trim_fraction", trim_fraction, upper=0.5)
    centred = P - P.mean(axis=0)
    _, eigenvectors = np.linalg.eigh(centred.T @ centred)
    axes = eigenvectors[:, ::-1].copy()
    for k in range(2):
        if axes[int(np.argmax(np.abs(axes[:, k]))), k] < 0.0:
            axes[:, k] = -axes[:, k]
    axes[:, 2] = np.cross(axes[:, 0], axes[:, 1])
    return _extent_box(P, axes, trim)
