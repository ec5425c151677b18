"""``~/points``: the query's frames as one coloured point cloud (sensor depth, camera poses) for rviz.

Convention:
    Points are metres in the snapshot's world frame: each frame's depth is back-projected in its optical
    frame (REP-103) and moved by its ``T_world_camera``. Frames without depth are skipped, and so are
    frames without a pose unless they are the world frame themselves (no pose source: the world is the
    first camera's optical frame). Every ``stride``-th pixel in both directions is used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sensor_msgs.msg import PointCloud2, PointField
from std_msgs.msg import Header

from spatialclaw_ros.geometry import backproject, transform_points
from spatialclaw_ros.runtime.frames import load_frames

MAX_POINTS = 2_000_000


def snapshot_points(snapshot_dir: Path, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """``(points N×3 float32 metres, colours N×3 uint8 RGB)`` of a snapshot, in its world frame."""
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    all_points, all_colours = [], []
    for frame in load_frames(snapshot_dir):
        if frame.depth is None or frame.K is None:
            continue
        if frame.T_world_camera is not None:
            T_world_camera = frame.T_world_camera
        elif frame.frame_id == frame.world_frame:
            T_world_camera = np.eye(4)
        else:
            continue
        depth = np.asarray(frame.depth)
        mask = np.zeros(depth.shape, dtype=bool)
        mask[::stride, ::stride] = True
        mask &= np.isfinite(depth) & (depth > 0)
        points = transform_points(T_world_camera, backproject(depth, frame.K, mask=mask))
        all_points.append(points.astype(np.float32))
        all_colours.append(np.asarray(frame.image)[mask])
    if not all_points:
        return np.zeros((0, 3), np.float32), np.zeros((0, 3), np.uint8)
    points, colours = np.concatenate(all_points), np.concatenate(all_colours)
    return points[:MAX_POINTS], colours[:MAX_POINTS]


def point_cloud(points: np.ndarray, colours: np.ndarray, header: Header) -> PointCloud2:
    """A ``PointCloud2`` with float32 ``x y z`` and the packed ``rgb`` field rviz colours by."""
    if points.shape != (len(points), 3) or colours.shape != (len(points), 3):
        raise ValueError(f"points and colours must be N×3, got {points.shape} and {colours.shape}")
    cloud = np.zeros(len(points), dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("rgb", "<u4")])
    cloud["x"], cloud["y"], cloud["z"] = points[:, 0], points[:, 1], points[:, 2]
    rgb = colours.astype(np.uint32)
    cloud["rgb"] = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    fields = [
        PointField(name="x", offset=0, datatype=PointField.FLOAT32, count=1),
        PointField(name="y", offset=4, datatype=PointField.FLOAT32, count=1),
        PointField(name="z", offset=8, datatype=PointField.FLOAT32, count=1),
        # rviz reads the packed colour as a float32 field named rgb.
        PointField(name="rgb", offset=12, datatype=PointField.FLOAT32, count=1),
    ]
    return PointCloud2(
        header=header,
        height=1,
        width=len(points),
        fields=fields,
        is_bigendian=False,
        point_step=16,
        row_step=16 * len(points),
        data=cloud.tobytes(),
        is_dense=True,
    )
