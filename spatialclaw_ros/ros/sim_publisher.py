"""ROS 2 node that publishes a simulated scene as one or several cameras, the way Gazebo or Isaac Sim would.

Per camera NAME (all names relative, remappable), at ``rate_hz``:
    ``NAME/image_raw`` (sensor_msgs/Image rgb8), ``NAME/camera_info``, ``NAME/depth/image_raw``
    (16UC1 millimetres or 32FC1 metres, registered to the colour image) with its
    ``NAME/depth/camera_info``, ``NAME/labels/image_raw`` (mono16 or 32SC1 instance ids),
    ``NAME/pose`` (geometry_msgs/PoseStamped, T_world_camera in the world frame), all with the
    sensor-data QoS (overridable per topic through ``qos_overrides.<topic>.publisher.*``, e.g.
    reliable delivery of large images) and one stamp per tick; ``NAME/labels/map`` (std_msgs/String
    JSON, id → label, latched). Once: ``sim/ground_truth`` (std_msgs/String JSON, see
    ``GroundTruth``; latched).
Image headers carry frame_id ``NAME`` + ``optical_frame_suffix`` and the node clock's stamp; scene
time is the stamp minus the ground truth's ``time_origin_s``.

A real depth camera's driver sends depth on its own topic, a little after (now and then before) the
colour image of the same stamp, and loses some: ``depth.lag_min_s``/``depth.lag_max_s`` send each
depth message a uniformly random delay after its colour image (a negative delay sends it first),
and ``depth.drop_ratio`` leaves that share of depth messages unsent (seeded by ``scene.seed``).

Run: ``ros2 run spatialclaw_ros sim_camera_publisher --ros-args -p cameras:="[front, left]"`` or
``python -m spatialclaw_ros.ros.sim_publisher --ros-args ...``. SIGINT or SIGTERM stop it (exit status 0);
invalid parameters stop it with exit status 2.
"""

from __future__ import annotations

import heapq
import itertools
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import rclpy
from geometry_msgs.msg import PoseStamped
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.qos import qos_profile_sensor_data
from rclpy.qos_overriding_options import QoSOverridingOptions
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header, String

from spatialclaw_ros.ros.parameters import declare_knobs, knob_values
from spatialclaw_ros.ros.qos import LATCHED_QOS
from spatialclaw_ros.ros.sim_messages import (
    DEPTH_ENCODINGS,
    LABEL_ENCODINGS,
    camera_info_message,
    depth_message,
    image_message,
    labels_message,
    pose_message,
)
from spatialclaw_ros.settings import SettingsError, knob, leaves, parse, section
from spatialclaw_ros.sim._generate import SCENE_KINDS, generate_scene
from spatialclaw_ros.sim._ground_truth import GroundTruth, label_map_json
from spatialclaw_ros.sim._noise import DepthNoise, add_depth_noise
from spatialclaw_ros.sim._render import RenderedView, SceneRenderer
from spatialclaw_ros.sim._scene import Scene

NODE_NAME = "sim_camera_publisher"
EXIT_BAD_PARAMETERS = 2


def _camera_names(names: tuple[str, ...]) -> str | None:
    return None if names and all(names) and len(set(names)) == len(names) else "name unique cameras"


def _not_empty(text: str) -> str | None:
    return None if text else "must not be empty"


@dataclass(frozen=True)
class SceneSection:
    """``scene.*``: which procedural scene is published."""

    kind: str = knob("room", "Procedural scene kind.", choices=SCENE_KINDS)
    seed: int = knob(0, "Scene seed; the same seed gives the same scene.", range=(0, 2**31 - 1))


@dataclass(frozen=True)
class DepthSection:
    """``depth.*``: the registered depth images and how a real driver's delays and losses are mimicked."""

    enabled: bool = knob(True, "Publish NAME/depth/image_raw.")
    encoding: str = knob(
        "16UC1",
        "Depth encoding: 16UC1 (millimetres, 0 invalid) or 32FC1 (metres, NaN invalid).",
        choices=DEPTH_ENCODINGS,
    )
    noise: bool = knob(False, "Apply the depth sensor noise model (seeded); off: exact depth.")
    lag_min_s: float = knob(
        0.0, "Shortest delay of a depth message after its colour image (< 0: before it).", unit="s"
    )
    lag_max_s: float = knob(0.0, "Longest delay of a depth message after its colour image.", unit="s")
    drop_ratio: float = knob(0.0, "Share of depth messages never sent (seeded).", range=(0.0, 1.0))


@dataclass(frozen=True)
class LabelsSection:
    """``labels.*``: the instance-label images."""

    enabled: bool = knob(True, "Publish NAME/labels/image_raw and the latched NAME/labels/map.")
    encoding: str = knob("mono16", "Instance label encoding.", choices=LABEL_ENCODINGS)


@dataclass(frozen=True)
class PublisherSettings:
    """The node's parameters, validated (see :func:`spatialclaw_ros.settings.parse`)."""

    scene: SceneSection = section(SceneSection, "The scene.")
    cameras: tuple[str, ...] = knob(
        ("camera",),
        "Camera names; each publishes NAME/image_raw, NAME/camera_info, ...",
        check=_camera_names,
    )
    rate_hz: float = knob(5.0, "Publishing rate of every camera.", unit="Hz", range=(0.01, 1000.0))
    width: int = knob(640, "Image width.", unit="px", range=(8, 8192))
    height: int = knob(480, "Image height.", unit="px", range=(8, 8192))
    hfov_deg: float = knob(70.0, "Horizontal field of view.", unit="deg", range=(1.0, 179.0))
    world_frame: str = knob(
        "map", "Frame of the camera poses and of the ground truth (REP-103, z up).", check=_not_empty
    )
    optical_frame_suffix: str = knob("_optical_frame", "Image frame_id is the camera name followed by this.")
    camera_motion: bool = knob(False, "Cameras sway along their wall and pan; off: cameras stand still.")
    depth: DepthSection = section(DepthSection, "Depth images.")
    labels: LabelsSection = section(LabelsSection, "Instance-label images.")

    def __post_init__(self) -> None:
        """Refuse depth delays that would reorder ticks: within (-1 / rate_hz, 1] s, min <= max."""
        depth = self.depth
        if not -1.0 / self.rate_hz < depth.lag_min_s <= depth.lag_max_s <= 1.0:
            raise SettingsError(
                "depth.lag_min_s <= depth.lag_max_s must lie within (-1 / rate_hz, 1] s, got "
                f"{depth.lag_min_s}, {depth.lag_max_s}"
            )

    def scene_model(self) -> Scene:
        """The scene these settings describe."""
        return generate_scene(
            seed=self.scene.seed,
            kind=self.scene.kind,
            cameras=self.cameras,
            width=self.width,
            height=self.height,
            hfov_deg=self.hfov_deg,
            camera_motion=self.camera_motion,
        )


class _CameraOutputs:
    """The publishers of one camera."""

    def __init__(self, node: Node, name: str, settings: PublisherSettings) -> None:
        def sensor(msg_type: type, topic: str) -> Publisher:
            return node.create_publisher(
                msg_type,
                topic,
                qos_profile_sensor_data,
                qos_overriding_options=QoSOverridingOptions.with_default_policies(),
            )

        self.image = sensor(Image, f"{name}/image_raw")
        self.info = sensor(CameraInfo, f"{name}/camera_info")
        self.pose = sensor(PoseStamped, f"{name}/pose")
        self.depth = sensor(Image, f"{name}/depth/image_raw") if settings.depth.enabled else None
        self.depth_info = sensor(CameraInfo, f"{name}/depth/camera_info") if settings.depth.enabled else None
        self.labels = None
        self.label_map = None
        if settings.labels.enabled:
            self.labels = sensor(Image, f"{name}/labels/image_raw")
            self.label_map = node.create_publisher(String, f"{name}/labels/map", LATCHED_QOS)


class _DelayedSender:
    """Publishes messages at given monotonic times from a thread of its own (rclpy publish is thread-safe)."""

    def __init__(self) -> None:
        self._queue: list[tuple[float, int, Publisher, object]] = []
        self._order = itertools.count()
        self._condition = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="delayed_sender", daemon=True)
        self._thread.start()

    def send_at(self, due_s: float, publisher: Publisher, message: object) -> None:
        """Publish ``message`` on ``publisher`` at ``time.monotonic() == due_s`` (at once if past)."""
        with self._condition:
            heapq.heappush(self._queue, (due_s, next(self._order), publisher, message))
            self._condition.notify()

    def _run(self) -> None:
        with self._condition:
            while not self._closed:
                if not self._queue:
                    self._condition.wait()
                    continue
                wait_s = self._queue[0][0] - time.monotonic()
                if wait_s > 0.0:
                    self._condition.wait(wait_s)
                    continue
                _, _, publisher, message = heapq.heappop(self._queue)
                publisher.publish(message)

    def close(self) -> None:
        """Stop; messages not yet due are not sent."""
        with self._condition:
            self._closed = True
            self._condition.notify()
        self._thread.join(timeout=5.0)


class SimCameraPublisher(Node):
    """Renders the scene for every camera at each tick and publishes images, depth, labels and poses."""

    def __init__(self, **kwargs) -> None:
        # First: a node whose parameters are refused is still destroyed (by rclpy's shutdown).
        self._delayed = _DelayedSender()
        super().__init__(NODE_NAME, **kwargs)
        declare_knobs(self, leaves(PublisherSettings))
        self.settings = parse(PublisherSettings, knob_values(self, leaves(PublisherSettings)))
        self._scene = self.settings.scene_model()
        self._renderer = SceneRenderer(self._scene)
        self._noise = DepthNoise() if self.settings.depth.noise else None
        self._origin = self.get_clock().now()
        self._frame_ids = {name: name + self.settings.optical_frame_suffix for name in self.settings.cameras}
        self._outputs = {name: _CameraOutputs(self, name, self.settings) for name in self.settings.cameras}
        self._tick = 0
        truth = GroundTruth(
            scene=self._scene,
            world_frame=self.settings.world_frame,
            time_origin_s=self._origin.nanoseconds * 1e-9,
            optical_frames=self._frame_ids,
        )
        self._truth_publisher = self.create_publisher(String, "sim/ground_truth", LATCHED_QOS)
        self._truth_publisher.publish(String(data=truth.to_json()))
        labels = String(data=label_map_json(self._scene))
        for outputs in self._outputs.values():
            if outputs.label_map is not None:
                outputs.label_map.publish(labels)
        self._timer = self.create_timer(1.0 / self.settings.rate_hz, self._publish_all)
        self.get_logger().info(
            f"publishing {self.settings.scene.kind} scene {self.settings.scene.seed} "
            f"({len(self._scene.objects)} objects) as cameras {', '.join(self.settings.cameras)} "
            f"at {self.settings.rate_hz} Hz"
        )

    def _publish_all(self) -> None:
        now = self.get_clock().now()
        t_s = (now - self._origin).nanoseconds * 1e-9
        stamp = now.to_msg()
        for index, (name, outputs) in enumerate(self._outputs.items()):
            view = self._renderer.render(name, t_s)
            header = Header(stamp=stamp, frame_id=self._frame_ids[name])
            depth = None
            if outputs.depth is not None:
                depth = self._depth(view, index)
            lag_s = self._depth_lag_s(index)
            if depth is not None and lag_s is not None and lag_s < 0.0:
                outputs.depth.publish(depth_message(depth, self.settings.depth.encoding, header))
            image_sent_s = time.monotonic()
            outputs.image.publish(image_message(view.rgb, "rgb8", header))
            info = camera_info_message(self._scene.camera(name), header)
            outputs.info.publish(info)
            if outputs.depth_info is not None:
                outputs.depth_info.publish(info)
            outputs.pose.publish(
                pose_message(view.T_world_camera, Header(stamp=stamp, frame_id=self.settings.world_frame))
            )
            if depth is not None and lag_s is not None and lag_s >= 0.0:
                message = depth_message(depth, self.settings.depth.encoding, header)
                if lag_s == 0.0:
                    outputs.depth.publish(message)
                else:
                    self._delayed.send_at(image_sent_s + lag_s, outputs.depth, message)
            if outputs.labels is not None:
                outputs.labels.publish(labels_message(view.labels, self.settings.labels.encoding, header))
        self._tick += 1

    def _depth(self, view: RenderedView, index: int) -> np.ndarray:
        depth = view.depth_m
        if self._noise is not None:
            rng = np.random.default_rng([self.settings.scene.seed, self._tick, index])
            depth = add_depth_noise(depth, view.incidence_cos, self._noise, rng)
        return depth

    def _depth_lag_s(self, index: int) -> float | None:
        """Delay of the camera's depth message after its image at the current tick, s; None: not sent."""
        settings = self.settings
        rng = np.random.default_rng([settings.scene.seed, self._tick, index, 1])
        dropped = rng.random() < settings.depth.drop_ratio
        lag_s = float(rng.uniform(settings.depth.lag_min_s, settings.depth.lag_max_s))
        return None if dropped else lag_s

    def destroy_node(self) -> None:
        """Stop the delayed sender, then destroy the node."""
        self._delayed.close()
        super().destroy_node()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the node until SIGINT or SIGTERM; returns the process exit status."""
    rclpy.init(args=argv, signal_handler_options=SignalHandlerOptions.ALL)
    try:
        node = SimCameraPublisher()
    except (ValueError, ParameterException) as error:
        sys.stderr.write(f"{NODE_NAME}: invalid parameters: {error}\n")
        rclpy.try_shutdown()
        return EXIT_BAD_PARAMETERS
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
