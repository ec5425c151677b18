"""The sim camera publisher, started in its own process, publishes what the scene and its ground truth say."""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
import threading
from collections import defaultdict

import numpy as np
import pytest
from geometry_msgs.msg import PoseStamped
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import String

from spatialclaw_ros.geometry import quat_to_matrix
from spatialclaw_ros.sim import (
    EAST_WALL_ID,
    NORTH_WALL_ID,
    SOUTH_WALL_ID,
    WEST_WALL_ID,
    DepthNoise,
    GroundTruth,
    generate_scene,
    render,
)

from support.ros_processes import REPO_ROOT, ros_args, running
from support.ros_spin import spinning_node, wait_until

pytestmark = pytest.mark.ros

WIDTH, HEIGHT, SEED = 160, 120, 5
EXACT = {"namespace": "/sim_exact", "cameras": ["front", "left"]}
NOISY = {"namespace": "/sim_noisy", "cameras": ["cam"]}
LATCHED = QoSProfile(
    depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
)
TOPICS = {
    "image_raw": Image,
    "camera_info": CameraInfo,
    "depth/image_raw": Image,
    "labels/image_raw": Image,
    "pose": PoseStamped,
}


def publisher_command(namespace: str, parameters: dict[str, object]) -> list[str]:
    # The executable wrapper is installed by colcon; the module runs from the source tree.
    pythonpath = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    return [
        "env",
        f"PYTHONPATH={pythonpath}",
        sys.executable,
        "-m",
        "spatialclaw_ros.ros.sim_publisher",
        *ros_args(namespace=namespace, parameters=parameters),
    ]


class Inbox:
    """Every message received per topic, in arrival order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: dict[str, list] = defaultdict(list)

    def callback(self, topic: str):
        def store(message) -> None:
            with self.lock:
                self.messages[topic].append(message)

        return store

    def get(self, topic: str) -> list:
        with self.lock:
            return list(self.messages[topic])


@pytest.fixture(scope="module")
def publishers():
    exact = {
        "scene.seed": SEED,
        "cameras": EXACT["cameras"],
        "width": WIDTH,
        "height": HEIGHT,
        "rate_hz": 10.0,
    }
    noisy = {
        "scene.seed": SEED,
        "scene.kind": "warehouse",
        "cameras": NOISY["cameras"],
        "width": WIDTH,
        "height": HEIGHT,
        "rate_hz": 10.0,
        "camera_motion": True,
        "depth.noise": True,
        "depth.encoding": "32FC1",
        "labels.encoding": "32SC1",
        "world_frame": "world",
    }
    with (
        running(publisher_command(EXACT["namespace"], exact), name="sim_exact") as first,
        running(publisher_command(NOISY["namespace"], noisy), name="sim_noisy") as second,
    ):
        yield first, second
    assert first.returncode == 0, "SIGINT must shut the publisher down cleanly"
    assert second.returncode == 0, "SIGINT must shut the publisher down cleanly"


@pytest.fixture(scope="module")
def inbox(publishers):
    box = Inbox()
    with spinning_node("sim_publisher_listener") as node:
        for setup in (EXACT, NOISY):
            ns = setup["namespace"]
            node.create_subscription(
                String, f"{ns}/sim/ground_truth", box.callback(f"{ns}/sim/ground_truth"), LATCHED
            )
            for camera in setup["cameras"]:
                node.create_subscription(
                    String, f"{ns}/{camera}/labels/map", box.callback(f"{ns}/{camera}/labels/map"), LATCHED
                )
                for topic, kind in TOPICS.items():
                    name = f"{ns}/{camera}/{topic}"
                    node.create_subscription(kind, name, box.callback(name), qos_profile_sensor_data)
        wanted = [f"{s['namespace']}/{c}/{t}" for s in (EXACT, NOISY) for c in s["cameras"] for t in TOPICS]
        wait_until(
            lambda: all(len(box.get(name)) >= 4 for name in wanted), 25.0, "four messages on every topic"
        )
        yield box


def as_array(message: Image) -> np.ndarray:
    dtype = {
        "rgb8": np.uint8,
        "16UC1": np.uint16,
        "mono16": np.uint16,
        "32FC1": np.float32,
        "32SC1": np.int32,
    }
    array = np.frombuffer(bytes(message.data), dtype=np.dtype(dtype[message.encoding]).newbyteorder("<"))
    assert message.step * message.height == array.nbytes
    channels = message.step // (message.width * array.itemsize)
    shape = (message.height, message.width, channels) if channels > 1 else (message.height, message.width)
    return array.reshape(shape)


def stamp_s(message) -> float:
    return message.header.stamp.sec + 1e-9 * message.header.stamp.nanosec


def same_tick(inbox: Inbox, prefix: str) -> dict[str, object]:
    """One message of every topic of a camera, all with the same stamp."""
    by_stamp = defaultdict(dict)
    for topic in TOPICS:
        for message in inbox.get(f"{prefix}/{topic}"):
            by_stamp[stamp_s(message)][topic] = message
    complete = [stamp for stamp, messages in by_stamp.items() if len(messages) == len(TOPICS)]
    assert complete, f"no tick of {prefix} arrived complete"
    return by_stamp[max(complete)]


def ground_truth(inbox: Inbox, namespace: str) -> GroundTruth:
    wait_until(lambda: inbox.get(f"{namespace}/sim/ground_truth"), 5.0, "the latched ground truth")
    return GroundTruth.from_json(inbox.get(f"{namespace}/sim/ground_truth")[0].data)


def test_images_have_the_requested_encodings_and_sizes(inbox):
    tick = same_tick(inbox, f"{EXACT['namespace']}/front")
    expected = {
        "image_raw": ("rgb8", 3 * WIDTH),
        "depth/image_raw": ("16UC1", 2 * WIDTH),
        "labels/image_raw": ("mono16", 2 * WIDTH),
    }
    for topic, (encoding, step) in expected.items():
        message = tick[topic]
        assert (message.encoding, message.width, message.height, message.step) == (
            encoding,
            WIDTH,
            HEIGHT,
            step,
        )
        assert message.header.frame_id == "front_optical_frame"
    noisy = same_tick(inbox, f"{NOISY['namespace']}/cam")
    assert noisy["depth/image_raw"].encoding == "32FC1"
    assert noisy["labels/image_raw"].encoding == "32SC1"
    assert noisy["pose"].header.frame_id == "world"


def test_stamps_increase_from_tick_to_tick(inbox):
    stamps = [stamp_s(message) for message in inbox.get(f"{EXACT['namespace']}/left/image_raw")]
    assert len(stamps) >= 4
    assert all(later > earlier for earlier, later in itertools.pairwise(stamps))


def test_camera_info_carries_the_field_of_view(inbox):
    info = same_tick(inbox, f"{EXACT['namespace']}/front")["camera_info"]
    focal = 0.5 * WIDTH / math.tan(math.radians(35.0))
    expected = [focal, 0.0, 0.5 * (WIDTH - 1), 0.0, focal, 0.5 * (HEIGHT - 1), 0.0, 0.0, 1.0]
    np.testing.assert_allclose(info.k, expected)
    assert (info.width, info.height, info.distortion_model) == (WIDTH, HEIGHT, "plumb_bob")
    assert not any(info.d)


def test_ground_truth_and_label_map_are_latched_and_match_the_seed(inbox):
    truth = ground_truth(inbox, EXACT["namespace"])
    expected = generate_scene(seed=SEED, cameras=EXACT["cameras"], width=WIDTH, height=HEIGHT)
    assert truth.scene == expected
    assert truth.world_frame == "map"
    assert truth.optical_frames == {"front": "front_optical_frame", "left": "left_optical_frame"}
    label_map = json.loads(inbox.get(f"{EXACT['namespace']}/left/labels/map")[0].data)
    assert {int(k): v for k, v in label_map.items()} == expected.label_map()


def test_wall_depth_equals_the_ray_plane_intersection(inbox):
    tick = same_tick(inbox, f"{EXACT['namespace']}/front")
    truth = ground_truth(inbox, EXACT["namespace"])
    depth_m = as_array(tick["depth/image_raw"]).astype(float) / 1000.0
    labels = as_array(tick["labels/image_raw"])
    pose = tick["pose"].pose
    R = quat_to_matrix([pose.orientation.x, pose.orientation.y, pose.orientation.z, pose.orientation.w])
    origin = np.array([pose.position.x, pose.position.y, pose.position.z])
    K = np.asarray(tick["camera_info"].k).reshape(3, 3)
    room = truth.scene.room
    planes = {
        EAST_WALL_ID: (0, 0.5 * room.length_m),
        WEST_WALL_ID: (0, -0.5 * room.length_m),
        NORTH_WALL_ID: (1, 0.5 * room.width_m),
        SOUTH_WALL_ID: (1, -0.5 * room.width_m),
    }
    checked = 0
    for wall_id, (axis, coordinate) in planes.items():
        rows, cols = np.nonzero(labels == wall_id)
        for row, col in list(zip(rows, cols, strict=True))[:: max(1, len(rows) // 20)]:
            direction = R @ np.linalg.solve(K, [col, row, 1.0])
            expected_m = (coordinate - origin[axis]) / direction[axis]
            assert abs(depth_m[row, col] - expected_m) <= 0.0005 + 1e-9
            checked += 1
    assert checked >= 20


def test_every_pixel_matches_a_render_at_the_stamp_scene_time(inbox):
    truth = ground_truth(inbox, EXACT["namespace"])
    tick = same_tick(inbox, f"{EXACT['namespace']}/left")
    t_s = truth.scene_time_s(stamp_s(tick["image_raw"]))
    view = render(truth.scene, "left", t_s)
    assert np.mean(as_array(tick["labels/image_raw"]) == view.labels) > 0.999
    assert np.mean(as_array(tick["image_raw"]) == view.rgb) > 0.999
    depth_mm = as_array(tick["depth/image_raw"]).astype(float)
    assert np.mean(np.abs(depth_mm - view.depth_m * 1000.0) <= 0.5 + 1e-3) > 0.999


def test_noisy_depth_has_holes_and_small_errors_and_the_camera_moves(inbox):
    truth = ground_truth(inbox, NOISY["namespace"])
    tick = same_tick(inbox, f"{NOISY['namespace']}/cam")
    clean = render(truth.scene, "cam", truth.scene_time_s(stamp_s(tick["image_raw"])))
    noisy = as_array(tick["depth/image_raw"])
    # Beyond the sensor's range nothing comes back, but for mixed pixels at the edges of nearer things.
    max_range_m = DepthNoise().max_range_m
    far = clean.depth_m > max_range_m + 1.0
    assert far.sum() > 100
    assert np.isnan(noisy[far]).mean() > 0.95
    assert 0.0 < np.isnan(noisy[clean.depth_m < max_range_m - 1.0]).mean() < 0.1
    valid = ~np.isnan(noisy)
    assert np.median(np.abs(noisy[valid] - clean.depth_m[valid])) < 0.05
    assert np.any(noisy[valid] != clean.depth_m[valid])
    positions = {(m.pose.position.x, m.pose.position.y) for m in inbox.get(f"{NOISY['namespace']}/cam/pose")}
    assert len(positions) > 1


def test_invalid_parameters_stop_the_publisher_with_status_2():
    command = publisher_command("/sim_bad", {"depth.encoding": "jpeg"})
    result = subprocess.run(command, capture_output=True, text=True, timeout=20)
    assert result.returncode == 2
    assert "depth.encoding" in result.stderr
