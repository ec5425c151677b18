"""``~/points``: a query's point cloud (:func:`spatialclaw_ros.engine.snapshot_points`) as a PointCloud2."""

from __future__ import annotations

import numpy as np
from sensor_msgs.msg import PointCloud2, PointField
from std_msgs.msg import Header


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
