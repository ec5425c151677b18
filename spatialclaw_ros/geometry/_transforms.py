"""Rigid transforms: 4x4 matrices, xyzw quaternions, roll/pitch/yaw, REP-103 optical and body axes."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from spatialclaw_ros.geometry import _checks
from spatialclaw_ros.geometry._checks import FloatArray

R_BODY_OPTICAL: FloatArray = _checks.read_only(
    np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
)
"""Rotation taking camera-optical-frame vectors (x right, y down, z forward) into the body frame
(x forward, y left, z up) of the same camera, REP-103. Columns are the optical axes in body axes."""

R_OPTICAL_BODY: FloatArray = _checks.read_only(R_BODY_OPTICAL.T.copy())
"""Inverse of `R_BODY_OPTICAL`: body-frame vectors into the optical frame."""

UP_BODY: FloatArray = _checks.read_only(np.array([0.0, 0.0, 1.0]))
"""Up in a REP-103 body or world frame (z up)."""

FORWARD_BODY: FloatArray = _checks.read_only(np.array([1.0, 0.0, 0.0]))
"""Forward in a REP-103 body frame (x forward)."""

UP_OPTICAL: FloatArray = _checks.read_only(np.array([0.0, -1.0, 0.0]))
"""Up in a camera optical frame held level (y down, so up is -y)."""

FORWARD_OPTICAL: FloatArray = _checks.read_only(np.array([0.0, 0.0, 1.0]))
"""Forward (viewing direction) in a camera optical frame (z forward)."""


def _quat_array(name: str, q: ArrayLike) -> FloatArray:
    array = _checks.finite(name, _checks.as_float_array(name, q))
    if array.shape[-1:] != (4,) or array.ndim not in (1, 2):
        raise ValueError(f"{name} must have shape (4,) or (N, 4) (x, y, z, w), got shape {array.shape}")
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    if np.any(norms < 1e-12):
        raise ValueError(f"{name} must be non-zero quaternion(s)")
    return array / norms


def make_transform(rotation: ArrayLike, translation: ArrayLike) -> FloatArray:
    """Build a 4x4 rigid transform from a rotation and a translation.

    Convention:
        `T_a_b = make_transform(R_a_b, t_a_b)` maps points from frame b into frame a:
        ``p_a = R_a_b @ p_b + t_a_b``. `rotation` is a (3, 3) proper rotation matrix or a
        (4,) quaternion (x, y, z, w); `translation` is (3,) in metres. Returns (4, 4) float64.

    Example:
        >>> T = make_transform(np.eye(3), [1.0, 2.0, 3.0])
        >>> transform_points(T, [0.0, 0.0, 0.0]).tolist()
        [1.0, 2.0, 3.0]
    """
    R_array = _checks.as_float_array("rotation", rotation)
    R = quat_to_matrix(R_array) if R_array.shape == (4,) else _checks.rotation("rotation", R_array)
    t = _checks.vector3("translation", translation)
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = t
    return T


def invert_transform(T: ArrayLike) -> FloatArray:
    """Invert a 4x4 rigid transform exactly (transpose of the rotation, no general matrix inverse).

    Convention:
        If `T` is `T_a_b` (frame b into frame a), the result is `T_b_a`. Shape (4, 4) in and out.

    Example:
        >>> T = make_transform(rotation_about_axis([0, 0, 1], np.pi / 2), [1.0, 0.0, 0.0])
        >>> np.allclose(invert_transform(T) @ T, np.eye(4))
        True
    """
    T_checked = _checks.rigid_transform("T", T)
    R = T_checked[:3, :3]
    inverse = np.eye(4)
    inverse[:3, :3] = R.T
    inverse[:3, 3] = -R.T @ T_checked[:3, 3]
    return inverse


def transform_points(T: ArrayLike, points: ArrayLike) -> FloatArray:
    """Apply a 4x4 rigid transform to points.

    Convention:
        `transform_points(T_a_b, points_b)` returns the points in frame a. `points` is (N, 3) or a
        single (3,) point (metres); the result has the same shape.

    Example:
        >>> T = make_transform(rotation_about_axis([0, 0, 1], np.pi / 2), [0.0, 0.0, 1.0])
        >>> np.round(transform_points(T, [[1.0, 0.0, 0.0]]), 6).tolist()
        [[0.0, 1.0, 1.0]]
    """
    T_checked = _checks.rigid_transform("T", T)
    single = np.shape(points) == (3,)
    P = _checks.points3("points", points)
    out = P @ T_checked[:3, :3].T + T_checked[:3, 3]
    return out[0] if single else out


def rotate_vectors(R: ArrayLike, vectors: ArrayLike) -> FloatArray:
    """Rotate direction vectors (no translation).

    Convention:
        `rotate_vectors(R_a_b, v_b)` returns the vectors in frame a. `R` is (3, 3) rotation;
        `vectors` is (N, 3) or (3,), and the result has the same shape.

    Example:
        >>> rotate_vectors(R_BODY_OPTICAL, [0.0, 0.0, 1.0]).tolist()
        [1.0, 0.0, 0.0]
    """
    R_checked = _checks.rotation("R", R)
    single = np.shape(vectors) == (3,)
    V = _checks.points3("vectors", vectors)
    out = V @ R_checked.T
    return out[0] if single else out


def optical_to_body(points_optical: ArrayLike) -> FloatArray:
    """Re-express points from a camera optical frame in the same camera's body frame (REP-103).

    Convention:
        Optical: x right, y down, z forward. Body: x forward, y left, z up. Same origin; (N, 3) or
        (3,) metres in, the same shape out.

    Example:
        >>> optical_to_body([1.0, 2.0, 3.0]).tolist()
        [3.0, -1.0, -2.0]
    """
    return rotate_vectors(R_BODY_OPTICAL, points_optical)


def body_to_optical(points_body: ArrayLike) -> FloatArray:
    """Re-express points from a camera body frame in its optical frame (inverse of `optical_to_body`).

    Convention:
        Body: x forward, y left, z up. Optical: x right, y down, z forward (REP-103).

    Example:
        >>> body_to_optical([3.0, -1.0, -2.0]).tolist()
        [1.0, 2.0, 3.0]
    """
    return rotate_vectors(R_OPTICAL_BODY, points_body)


def rotation_about_axis(axis: ArrayLike, angle_rad: float) -> FloatArray:
    """Rotation matrix for a right-handed rotation of `angle_rad` about `axis` (Rodrigues).

    Convention:
        Positive angles turn counter-clockwise when looking down the axis towards the origin.
        `axis` is (3,), any non-zero length. Returns (3, 3).

    Example:
        >>> np.round(rotation_about_axis([0, 0, 1], np.pi / 2) @ [1.0, 0.0, 0.0], 6).tolist()
        [0.0, 1.0, 0.0]
    """
    k = _checks.unit_vector3("axis", axis)
    angle = float(angle_rad)
    K = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + np.sin(angle) * K + (1.0 - np.cos(angle)) * (K @ K)


def rotation_from_rpy(roll_rad: float, pitch_rad: float, yaw_rad: float) -> FloatArray:
    """Rotation matrix from roll, pitch, yaw (ROS convention, fixed axes).

    Convention:
        ``R = Rz(yaw) @ Ry(pitch) @ Rx(roll)``: roll about x first, then pitch about y, then yaw
        about z, all about the fixed parent axes (as tf2's `setRPY`). Radians. Returns (3, 3).

    Example:
        >>> np.round(rotation_from_rpy(0.0, 0.0, np.pi / 2) @ [1.0, 0.0, 0.0], 6).tolist()
        [0.0, 1.0, 0.0]
    """
    cr, sr = np.cos(roll_rad), np.sin(roll_rad)
    cp, sp = np.cos(pitch_rad), np.sin(pitch_rad)
    cy, sy = np.cos(yaw_rad), np.sin(yaw_rad)
    return np.array(
        [
            [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
            [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
            [-sp, cp * sr, cp * cr],
        ]
    )


def rotation_to_rpy(R: ArrayLike) -> tuple[float, float, float]:
    """Roll, pitch, yaw (radians) of a rotation matrix; inverse of `rotation_from_rpy`.

    Convention:
        Same fixed-axis convention as `rotation_from_rpy`; pitch in [-pi/2, pi/2]. At pitch = ±pi/2
        (gimbal lock) roll is reported as 0 and yaw carries the whole rotation about z.

    Example:
        >>> [round(a, 6) for a in rotation_to_rpy(rotation_from_rpy(0.1, -0.2, 0.3))]
        [0.1, -0.2, 0.3]
    """
    M = _checks.rotation("R", R)
    pitch = float(np.arcsin(np.clip(-M[2, 0], -1.0, 1.0)))
    if abs(M[2, 0]) > 1.0 - 1e-9:
        return 0.0, pitch, float(np.arctan2(-M[0, 1], M[1, 1]))
    return float(np.arctan2(M[2, 1], M[2, 2])), pitch, float(np.arctan2(M[1, 0], M[0, 0]))


def quat_to_matrix(q: ArrayLike) -> FloatArray:
    """Rotation matrix of a unit quaternion (normalised first).

    Convention:
        Quaternions are (x, y, z, w), as geometry_msgs/Quaternion. Input (4,) gives (3, 3);
        input (N, 4) gives (N, 3, 3). Zero quaternions raise ValueError.

    Example:
        >>> s = np.sqrt(0.5)
        >>> np.allclose(quat_to_matrix([0.0, 0.0, s, s]) @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
        True
    """
    unit = _quat_array("q", q)
    x, y, z, w = np.moveaxis(unit, -1, 0)
    R = np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], axis=-1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], axis=-1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], axis=-1),
        ],
        axis=-2,
    )
    return R


def _matrix_to_quat_one(R: FloatArray) -> FloatArray:
    # Shepperd's method: branch on the largest of (trace, diagonal) so the divisor is never small;
    # this keeps rotations near 180 degrees (trace near -1) exact.
    trace = np.trace(R)
    diagonal = np.diag(R)
    if trace >= diagonal.max():
        s = 2.0 * np.sqrt(1.0 + trace)
        q = np.array([(R[2, 1] - R[1, 2]) / s, (R[0, 2] - R[2, 0]) / s, (R[1, 0] - R[0, 1]) / s, s / 4])
    else:
        i = int(np.argmax(diagonal))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * np.sqrt(1.0 + R[i, i] - R[j, j] - R[k, k])
        q = np.empty(4)
        q[i] = s / 4
        q[j] = (R[j, i] + R[i, j]) / s
        q[k] = (R[k, i] + R[i, k]) / s
        q[3] = (R[k, j] - R[j, k]) / s
    q /= np.linalg.norm(q)
    return -q if q[3] < 0 else q


def matrix_to_quat(R: ArrayLike) -> FloatArray:
    """Unit quaternion (x, y, z, w) of a rotation matrix, with w >= 0.

    Convention:
        Input (3, 3) gives (4,); input (N, 3, 3) gives (N, 4). Each matrix must be a proper
        rotation. The sign is fixed so that w >= 0 (q and -q are the same rotation). Stable near
        180 degrees.

    Example:
        >>> np.round(matrix_to_quat(rotation_about_axis([1, 0, 0], np.pi)), 6).tolist()
        [1.0, 0.0, 0.0, 0.0]
    """
    array = _checks.as_float_array("R", R)
    if array.shape == (3, 3):
        return _matrix_to_quat_one(_checks.rotation("R", array))
    if array.ndim != 3 or array.shape[1:] != (3, 3):
        raise ValueError(f"R must have shape (3, 3) or (N, 3, 3), got shape {array.shape}")
    return np.stack([_matrix_to_quat_one(_checks.rotation(f"R[{i}]", M)) for i, M in enumerate(array)])


def quat_multiply(q1: ArrayLike, q2: ArrayLike) -> FloatArray:
    """Hamilton product ``q1 * q2`` of (x, y, z, w) quaternions.

    Convention:
        ``quat_to_matrix(quat_multiply(q1, q2)) == quat_to_matrix(q1) @ quat_to_matrix(q2)``:
        rotate by q2 first, then by q1. Shapes (4,) or (N, 4), broadcast together; inputs are
        normalised first.

    Example:
        >>> s = np.sqrt(0.5)
        >>> np.round(quat_multiply([0, 0, s, s], [0, 0, s, s]), 6).tolist()
        [0.0, 0.0, 1.0, 0.0]
    """
    a = _quat_array("q1", q1)
    b = _quat_array("q2", q2)
    x1, y1, z1, w1 = np.moveaxis(a, -1, 0)
    x2, y2, z2, w2 = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        ],
        axis=-1,
    )


def quat_conjugate(q: ArrayLike) -> FloatArray:
    """Inverse rotation of a unit quaternion (normalised first): (-x, -y, -z, w).

    Convention:
        (x, y, z, w); shape (4,) or (N, 4) in and out.

    Example:
        >>> quat_conjugate([0.0, 0.0, 1.0, 0.0]).tolist()
        [-0.0, -0.0, -1.0, 0.0]
    """
    unit = _quat_array("q", q)
    return unit * np.array([-1.0, -1.0, -1.0, 1.0])


def quat_slerp(q0: ArrayLike, q1: ArrayLike, t: ArrayLike) -> FloatArray:
    """Spherical linear interpolation between two rotations, along the shorter arc.

    Convention:
        (x, y, z, w) quaternions of shape (4,); `t` = 0 gives q0, 1 gives q1 (values outside [0, 1]
        extrapolate). Scalar `t` gives (4,); `t` of shape (M,) gives (M, 4). Results are unit
        quaternions; the sign follows q0's hemisphere.

    Example:
        >>> s = np.sqrt(0.5)
        >>> half = quat_slerp([0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0], 0.5)
        >>> np.round(half, 6).tolist() == np.round([0.0, 0.0, s, s], 6).tolist()
        True
    """
    a = _quat_array("q0", q0)
    b = _quat_array("q1", q1)
    if a.shape != (4,) or b.shape != (4,):
        raise ValueError("q0 and q1 must each have shape (4,)")
    times = _checks.finite("t", _checks.as_float_array("t", t))
    if times.ndim > 1:
        raise ValueError(f"t must be a scalar or have shape (M,), got shape {times.shape}")
    cos_angle = float(np.dot(a, b))
    if cos_angle < 0.0:
        b, cos_angle = -b, -cos_angle
    tt = times[..., None]
    if cos_angle > 1.0 - 1e-9:
        out = (1.0 - tt) * a + tt * b
    else:
        angle = np.arccos(cos_angle)
        out = (np.sin((1.0 - tt) * angle) * a + np.sin(tt * angle) * b) / np.sin(angle)
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


def rotation_angle(R: ArrayLike) -> float:
    """Angle (radians, in [0, pi]) of a rotation matrix; e.g. the error of ``R_est @ R_true.T``.

    Convention:
        `R` is a (3, 3) proper rotation.

    Example:
        >>> round(rotation_angle(rotation_about_axis([0, 1, 0], 0.25)), 6)
        0.25
    """
    q = _matrix_to_quat_one(_checks.rotation("R", R))
    return float(2.0 * np.arctan2(np.linalg.norm(q[:3]), q[3]))
