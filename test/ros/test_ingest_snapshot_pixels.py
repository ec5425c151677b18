"""Frames published by another process reach a snapshot pixel for pixel (raw and compressed encodings)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from spatialclaw_ros.frames import write_snapshot
from spatialclaw_ros.runtime.frames import load_frames

from support.ros_processes import REPO_ROOT, running
from support.ros_spin import wait_until

_spec = importlib.util.spec_from_file_location(
    "ingest_support", Path(__file__).with_name("ingest_support.py")
)
support = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(support)

pytestmark = pytest.mark.ros

NS = 1_000_000_000
RAW = {
    "namespace": "/ingest_raw",
    "rate_hz": 20.0,
    "t0": 0.0,
    "cameras": {
        "front": {
            "width": 32,
            "height": 24,
            "encoding": "rgb8",
            "row_padding": 5,
            "depth": "16UC1",
            "depth_bigendian": True,
        },
        "left": {"width": 20, "height": 12, "encoding": "bgr8", "depth": "32FC1"},
        "mono": {"width": 16, "height": 8, "encoding": "mono8"},
    },
}
COMPRESSED = {
    "namespace": "/ingest_compressed",
    "rate_hz": 20.0,
    "t0": 0.0,
    "cameras": {
        "cam": {"width": 24, "height": 16, "compressed": True, "depth": "16UC1", "depth_compressed": True}
    },
}


def _ready(buffer, cameras, depth_cameras, count):
    stats = buffer.stats()
    return all(
        c in stats
        and stats[c].camera_info
        and stats[c].kept >= count
        and (c not in depth_cameras or stats[c].depth_kept >= count)
        for c in cameras
    )


def _check_snapshot(tmp_path, buffer, config, depth_cameras):
    index = write_snapshot(buffer, tmp_path / "snapshot", None, 10.0, 16)
    assert index.errors == ()
    frames = load_frames(tmp_path / "snapshot")
    assert set(frames.cameras) == set(config["cameras"])
    with_depth = dict.fromkeys(depth_cameras, 0)
    for frame in frames:
        camera = config["cameras"][frame.camera]
        stamp_ns = index.frames[frame.index].stamp_ns
        expected = support.rgb_for(stamp_ns, camera["height"], camera["width"])
        if camera.get("encoding") == "mono8":
            expected = np.repeat(expected[..., :1], 3, axis=2)
        assert np.array_equal(frame.image, expected), f"{frame.camera} pixels differ at {stamp_ns}"
        K = np.reshape(support.intrinsics(camera["width"], camera["height"]), (3, 3))
        np.testing.assert_array_equal(frame.K, K)
        assert frame.frame_id == f"{frame.camera}_optical"
        # The newest frame's depth may still be in flight (or lost: best effort), never wrong.
        if frame.depth is not None:
            expected_depth = support.depth_m_for(stamp_ns, camera["height"], camera["width"])
            np.testing.assert_allclose(frame.depth, expected_depth, rtol=1e-6)
            with_depth[frame.camera] += 1
    assert all(count >= 2 for count in with_depth.values()), with_depth


def test_raw_encodings_padding_and_big_endian(tmp_path):
    with (
        running(support.publisher_command(RAW, REPO_ROOT), name="ingest_raw_publisher"),
        support.ingest_node(
            RAW["namespace"], list(RAW["cameras"]), {"front.depth": True, "left.depth": True}
        ) as (
            _node,
            buffer,
            _ingest,
        ),
    ):
        wait_until(lambda: _ready(buffer, RAW["cameras"], {"front", "left"}, 4), 30.0, "4 frames with depth")
        _check_snapshot(tmp_path, buffer, RAW, {"front", "left"})
        for stats in buffer.stats().values():
            assert stats.rejected == 0 and stats.depth_rejected == 0 and stats.camera_info


def test_compressed_image_and_compressed_depth(tmp_path):
    parameters = {"cam.compressed": True, "cam.depth": True, "cam.depth_compressed": True}
    with (
        running(support.publisher_command(COMPRESSED, REPO_ROOT), name="ingest_compressed_publisher"),
        support.ingest_node(COMPRESSED["namespace"], ["cam"], parameters) as (_node, buffer, _ingest),
    ):
        wait_until(lambda: _ready(buffer, ["cam"], {"cam"}, 4), 30.0, "4 compressed frames with depth")
        _check_snapshot(tmp_path, buffer, COMPRESSED, {"cam"})
