"""numpy arrays and simulated camera state as ROS 2 messages: Image, CameraInfo, PoseStamped.

Convention:
    Images follow REP-118 and sensor_msgs/Image: row-major, ``step`` = bytes per row, little-endian
    data marked by ``is_bigendian``. Depth is "16UC1" (millimetres, 0 = no reading) or "32FC1"
    (metres, NaN = no reading). Instance labels are "mono16" or "32SC1". Poses are T_world_camera:
    the camera optical frame expressed in the world frame.
"""

from __future__ import annotations

import sys

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point, Pose, PoseStamped, Quaternion
from numpy.typing import NDArray
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from spatialclaw_ros.geometry import matrix_to_quat
from spatialclaw_ros.sim._camera import SimCamera

DEPTH_ENCODINGS = ("16UC1", "32FC1")
LABEL_ENCODINGS = ("mono16", "32SC1")

# Encoding → (dtype, channels).
_LAYOUTS: dict[str, tuple[np.dtype, int]] = {
    "rgb8": (np.dtype(np.uint8), 3),
    "mono16": (np.dtype(np.uint16), 1),
    "16UC1": (np.dtype(np.uint16), 1),
    "32FC1": (np.dtype(np.float32), 1),
    "32SC1": (np.dtype(np.int32), 1),
}
_MAX_MM = np.iinfo(np.uint16).max


def image_message(array: NDArray, encoding: str, header: Header) -> Image:
    """A sensor_msgs/Image holding ``array`` ((H, W) or (H, W, 3)) in ``encoding``, without copying twice."""
    if encoding not in _LAYOUTS:
        raise ValueError(f"unsupported encoding {encoding!r}; supported: {', '.join(_LAYOUTS)}")
    dtype, channels = _LAYOUTS[encoding]
    expected_ndim = 3 if channels > 1 else 2
    if array.ndim != expected_ndim or (channels > 1 and array.shape[2] != channels):
        raise ValueError(
            f"a {encoding} image needs shape (H, W{', 3' if channels > 1 else ''}), got {array.shape}"
        )
    data = np.ascontiguousarray(array, dtype=dtype)
    height, width = data.shape[:2]
    return Image(
        header=header,
        height=height,
        width=width,
        encoding=encoding,
        is_bigendian=int(sys.byteorder == "big"),
        step=width * channels * dtype.itemsize,
        data=data.tobytes(),
    )


def depth_message(depth_m: NDArray[np.floating], encoding: str, header: Header) -> Image:
    """Depth in metres (NaN invalid) as a "16UC1" millimetre image (0 invalid) or a "32FC1" metre image."""
    if encoding == "32FC1":
        return image_message(depth_m.astype(np.float32), encoding, header)
    if encoding != "16UC1":
        raise ValueError(f"unsupported depth encoding {encoding!r}; supported: {', '.join(DEPTH_ENCODINGS)}")
    millimetres = np.round(np.nan_to_num(depth_m, nan=0.0) * 1000.0)
    millimetres[(millimetres < 0) | (millimetres > _MAX_MM)] = 0
    return image_message(millimetres.astype(np.uint16), encoding, header)


def labels_message(labels: NDArray[np.integer], encoding: str, header: Header) -> Image:
    """Instance ids as a "mono16" or "32SC1" image."""
    if encoding not in LABEL_ENCODINGS:
        raise ValueError(f"unsupported label encoding {encoding!r}; supported: {', '.join(LABEL_ENCODINGS)}")
    return image_message(labels, encoding, header)


def camera_info_message(camera: SimCamera, header: Header) -> CameraInfo:
    """Rectified pinhole CameraInfo (plumb_bob, zero distortion) of a simulated camera."""
    K = camera.K
    return CameraInfo(
        header=header,
        height=camera.height,
        width=camera.width,
        distortion_model="plumb_bob",
        d=[0.0] * 5,
        k=K.reshape(-1).tolist(),
        r=np.eye(3).reshape(-1).tolist(),
        p=np.hstack([K, np.zeros((3, 1))]).reshape(-1).tolist(),
    )


def pose_message(T_world_camera: NDArray[np.floating], header: Header) -> PoseStamped:
    """T_world_camera (4, 4) as a PoseStamped; ``header.frame_id`` should be the world frame."""
    x, y, z = (float(v) for v in T_world_camera[:3, 3])
    qx, qy, qz, qw = (float(v) for v in matrix_to_quat(T_world_camera[:3, :3]))
    return PoseStamped(
        header=header,
        pose=Pose(position=Point(x=x, y=y, z=z), orientation=Quaternion(x=qx, y=qy, z=qz, w=qw)),
    )


def stamp_seconds(stamp: Time) -> float:
    """A builtin_interfaces/Time as seconds."""
    return stamp.sec + 1e-9 * stamp.nanosec
