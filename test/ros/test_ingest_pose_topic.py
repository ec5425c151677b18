"""Camera poses from an odometry topic, interpolated at the image stamps and composed with the extrinsic."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import numpy as np
import pytest

from spatialclaw_ros.frames import pose_matrix, write_snapshot

from support.ros_processes import REPO_ROOT, running
from support.ros_spin import wait_until

_spec = importlib.util.spec_from_file_location(
    "ingest_support", Path(__file__).with_name("ingest_support.py")
)
support = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(support)

pytestmark = pytest.mark.ros

NS = 1_000_000_000
T0 = float(int(time.time()))
CONFIG = {
    "namespace": "/ingest_pose",
    "rate_hz": 10.0,
    "t0": T0,
    "odometry": "odom",
    "cameras": {"front": {"width": 16, "height": 12, "encoding": "rgb8"}},
}
EXTRINSIC = [0.3, -0.1, 0.8, -0.5, 0.5, -0.5, 0.5]  # camera optical frame on a body looking forward (x)


def test_poses_follow_the_analytic_motion(tmp_path):
    parameters = {"pose.source": "topic", "pose.topic": "odom", "front.T_body_camera": EXTRINSIC}
    with (
        running(support.publisher_command(CONFIG, REPO_ROOT), name="ingest_pose_publisher"),
        support.ingest_node(CONFIG["namespace"], ["front"], parameters, keyframe_hz=5.0) as (
            _node,
            buffer,
            ingest,
        ),
    ):
        assert ingest.pose_source_name == "topic"
        wait_until(lambda: "front" in buffer.stats() and buffer.stats()["front"].kept >= 20, 30.0, "frames")
        # The last 2.5 s only: well after the first odometry sample arrived.
        index = write_snapshot(buffer, tmp_path / "snapshot", ["front"], 2.5, 8)
    assert index.world_frame == "odom"
    T_body_camera = pose_matrix(EXTRINSIC[:3], EXTRINSIC[3:])
    checked = 0
    posed = [frame for frame in index.frames[:-1] if frame.T_world_camera is not None]
    # On a loaded machine odometry samples can arrive too far apart to interpolate: such frames must
    # carry no pose (never a wrong one) and say why.
    for problem in index.errors:
        assert "apart (more than" in problem or "outside the poses received" in problem, problem
    for frame in posed:  # the latest image may be newer than the last odometry sample
        expected = pose_matrix(*support.body_pose(frame.stamp_ns / NS - T0)) @ T_body_camera
        # x and z move linearly and the yaw at a constant rate: interpolation is exact. y = 0.2 sin(t)
        # deviates from its chord by at most 0.2 · gap² / 8 (best-effort samples may be dropped; gaps
        # up to max_gap_s = 0.5 s are interpolated).
        position, rotation = frame.T_world_camera[:3, 3], frame.T_world_camera[:3, :3]
        error = np.abs(position - expected[:3, 3])
        assert error[0] < 1e-6 and error[2] < 1e-6 and error[1] <= 0.2 * 0.5**2 / 8, error
        np.testing.assert_allclose(rotation, expected[:3, :3], atol=1e-6)
        checked += 1
    assert checked >= 3, index.errors
    forward_in_world = posed[0].T_world_camera[:3, 2]
    yaw = support.BODY_YAW_RATE * (posed[0].stamp_ns / NS - T0)
    np.testing.assert_allclose(forward_in_world, [np.cos(yaw), np.sin(yaw), 0.0], atol=1e-6)
