"""Camera poses from tf2 at the image stamp (runs where tf2_ros is installed, as on a ROS 2 machine)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from spatialclaw_ros.frames import pose_matrix, write_snapshot

from support.ros_processes import REPO_ROOT, running
from support.ros_spin import wait_until

tf2_ros = pytest.importorskip("tf2_ros", reason="tf2_ros is not installed (pip-only ROS environment)")
from geometry_msgs.msg import TransformStamped  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "ingest_support", Path(__file__).with_name("ingest_support.py")
)
support = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(support)

pytestmark = pytest.mark.ros

CONFIG = {
    "namespace": "/ingest_tf",
    "rate_hz": 10.0,
    "t0": 0.0,
    "cameras": {"front": {"width": 16, "height": 12, "encoding": "rgb8"}},
}
TRANSLATION = [1.0, -2.0, 0.5]
QUATERNION = [-0.5, 0.5, -0.5, 0.5]


def test_static_camera_pose_from_tf(tmp_path):
    parameters = {"pose.source": "tf", "pose.world_frame": "map"}
    with (
        running(support.publisher_command(CONFIG, REPO_ROOT), name="ingest_tf_publisher"),
        support.ingest_node(CONFIG["namespace"], ["front"], parameters) as (node, buffer, ingest),
    ):
        assert ingest.pose_source_name == "tf"
        transform = TransformStamped()
        transform.header.stamp = node.get_clock().now().to_msg()
        transform.header.frame_id = "map"
        transform.child_frame_id = "front_optical"
        t, q = transform.transform.translation, transform.transform.rotation
        t.x, t.y, t.z = TRANSLATION
        q.x, q.y, q.z, q.w = QUATERNION
        broadcaster = tf2_ros.StaticTransformBroadcaster(node)
        broadcaster.sendTransform(transform)
        wait_until(lambda: "front" in buffer.stats() and buffer.stats()["front"].kept >= 3, 30.0, "frames")
        index = write_snapshot(buffer, tmp_path / "snapshot", None, 10.0, 4)
    assert index.world_frame == "map", index.errors
    for frame in index.frames:
        np.testing.assert_allclose(frame.T_world_camera, pose_matrix(TRANSLATION, QUATERNION), atol=1e-9)
