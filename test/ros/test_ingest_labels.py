"""Simulator label images travel from the sim publisher process through ingest and a snapshot to tools.*."""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import Image
from std_msgs.msg import String

from spatialclaw_ros.frames import decode_labels, write_snapshot
from spatialclaw_ros.perception import PerceptionServiceProcess, PerceptionSettings
from spatialclaw_ros.runtime import tools
from spatialclaw_ros.runtime.frames import load_frames
from spatialclaw_ros.sim import GroundTruth, generate_scene, render

from support.ros_processes import REPO_ROOT, ros_args, running
from support.ros_spin import wait_until

_spec = importlib.util.spec_from_file_location(
    "ingest_support", Path(__file__).with_name("ingest_support.py")
)
support = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(support)

pytestmark = pytest.mark.ros

NAMESPACE = "/ingest_labels"
CAMERA = "front"
WIDTH, HEIGHT, SEED = 160, 120, 5
SIM = {
    "scene.seed": SEED,
    "cameras": [CAMERA],
    "width": WIDTH,
    "height": HEIGHT,
    "rate_hz": 10.0,
    "depth.enabled": False,
}
LATCHED = QoSProfile(
    depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
)


def sim_command() -> list[str]:
    pythonpath = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    return [
        "env",
        f"PYTHONPATH={pythonpath}",
        sys.executable,
        "-m",
        "spatialclaw_ros.ros.sim_publisher",
        *ros_args(namespace=NAMESPACE, parameters=SIM),
    ]


def _ready(buffer, count: int) -> bool:
    stats = buffer.stats().get(CAMERA)
    return stats is not None and stats.camera_info and stats.labels_kept >= count and stats.label_map_size > 0


@pytest.fixture(scope="module")
def captured(tmp_path_factory):
    """A snapshot of the sim camera with labels, the label images as published (by stamp), the truth."""
    directory = tmp_path_factory.mktemp("labels") / "snapshot"
    published: dict[int, np.ndarray] = {}
    truth: list[str] = []
    lock = threading.Lock()

    def on_labels(message: Image) -> None:
        stamp_ns = message.header.stamp.sec * support.NS + message.header.stamp.nanosec
        with lock:
            published[stamp_ns] = np.array(decode_labels(message, CAMERA))

    parameters = {f"{CAMERA}.labels": True, f"{CAMERA}.depth": False, "pose.source": "none"}
    with support.ingest_node(NAMESPACE, [CAMERA], parameters) as (node, buffer, ingest):
        waiting = ingest.waiting_topics()
        node.create_subscription(Image, f"{CAMERA}/labels/image_raw", on_labels, qos_profile_sensor_data)
        node.create_subscription(String, "sim/ground_truth", lambda m: truth.append(m.data), LATCHED)
        with running(sim_command(), name="sim_labels_publisher"):
            wait_until(lambda: _ready(buffer, 4) and truth, 40.0, "4 frames with labels and the label map")
            assert ingest.waiting_topics() == []
            index = write_snapshot(buffer, directory, [CAMERA], 10.0, 6)
            stats = buffer.stats()[CAMERA]
    with lock:
        published = dict(published)
    return {
        "waiting": waiting,
        "index": index,
        "stats": stats,
        "published": published,
        "truth": GroundTruth.from_json(truth[0]),
        "frames": load_frames(directory),
    }


@pytest.fixture(scope="module")
def perception(tmp_path_factory):
    """The perception service with the labels backend and no label map of its own."""
    settings = PerceptionSettings(segmenter="labels", depth="sensor", reconstructor="none")
    log = tmp_path_factory.mktemp("perception") / "log.txt"
    with PerceptionServiceProcess(settings, f"/tmp/scl-labels-{os.getpid()}.sock", log_path=log) as service:
        tools.configure(socket_path=service.socket_path)
        yield service


def labelled(frames):
    return [frame for frame in frames if frame.labels is not None]


def test_ingest_subscribes_to_the_label_image_and_the_latched_map(captured):
    topics = {f"{NAMESPACE}/{CAMERA}/labels/image_raw", f"{NAMESPACE}/{CAMERA}/labels/map"}
    assert topics <= set(captured["waiting"])
    stats = captured["stats"]
    assert stats.labels_rejected == 0 and stats.label_maps_rejected == 0 and stats.last_error is None


def test_snapshot_labels_equal_the_published_ones(captured):
    assert captured["index"].errors == ()
    frames = labelled(captured["frames"])
    # The newest frame's label image may still be in flight, never wrong.
    assert len(frames) >= 3
    for frame in frames:
        stamp_ns = captured["index"].frames[frame.index].stamp_ns
        assert frame.labels.dtype == np.uint16
        assert np.array_equal(frame.labels, captured["published"][stamp_ns])


def test_frame_label_map_is_the_scene_label_map(captured):
    expected = generate_scene(seed=SEED, cameras=[CAMERA], width=WIDTH, height=HEIGHT).label_map()
    assert all(frame.label_map == expected for frame in captured["frames"])


def test_segmented_chair_has_the_ground_truth_pixel_count(captured, perception):
    truth = captured["truth"]
    for frame in labelled(captured["frames"]):
        view = render(truth.scene, CAMERA, truth.scene_time_s(frame.stamp))
        chairs = {i: name for i, name in frame.label_map.items() if name.endswith("chair")}
        expected = {name: int((view.labels == i).sum()) for i, name in chairs.items()}
        expected = {name: count for name, count in expected.items() if count}
        assert expected, "the scene's camera must see a chair"
        result = tools.segment(frame, "chair")
        assert result.backend == "labels"
        assert dict(zip(result.labels, (int(m.sum()) for m in result.masks), strict=True)) == expected


def test_track_links_tables_by_instance_id(captured, perception):
    frames = labelled(captured["frames"])
    tables = [i for i, name in frames[0].label_map.items() if name.endswith("table")]
    visible = {i for frame in frames for i in tables if (frame.labels == i).any()}
    tracks = tools.track(frames, "tables")
    assert len(tracks) == len(visible) >= 2
    for j in range(len(tracks)):
        seen = [np.unique(frame.labels[tracks.masks[j, f]]) for f, frame in enumerate(frames)]
        (instance,) = {int(i) for ids in seen for i in ids}
        assert tracks.present[j].tolist() == [bool((frame.labels == instance).any()) for frame in frames]
