"""Camera ingest: subscribes to each camera's images, depth, labels, camera_info and poses for a FrameBuffer.

Per camera NAME (relative names, remappable; sensor-data QoS, overridable per topic through
``qos_overrides.<topic>.subscription.{history,depth,reliability}``):

- ``NAME/image_raw`` (``sensor_msgs/Image``), or ``NAME/image_raw/compressed``
  (``CompressedImage``) when ``NAME.compressed`` is true;
- ``NAME/camera_info``;
- unless ``NAME.depth`` is ``false``: ``NAME/depth/image_raw`` (``16UC1``/``32FC1``), or
  ``NAME/depth/image_raw/compressedDepth`` when ``NAME.depth_compressed`` is true, and
  ``NAME/depth/camera_info``. ``auto`` (default): frames carry depth once depth messages arrive;
  ``true``: depth is required (diagnostics warn while none arrives, answers say when frames lack
  it); the colour frames of a camera whose depth is sending wait for it (``buffer.pairing_wait_s``);
- with ``NAME.labels``: ``NAME/labels/image_raw`` (a simulator's instance-label image,
  ``mono8``/``mono16``/``16UC1``/``32SC1``, same size and stamps as the colour image) and
  ``NAME/labels/map`` (``std_msgs/String`` JSON ``{"id": "name"}``, latched: reliable,
  transient-local, depth 1).

Images are taken serialized (``raw=True``): a callback only hands the bytes to the buffer, which
reads the header; nothing is deserialized or decoded until a query writes a snapshot. To keep the
per-frame cost low the ingest also raises glibc's mmap threshold once, so multi-megabyte message
buffers are recycled from the heap instead of being mapped and page-faulted afresh for every
frame.

Camera poses (``pose.source``): ``tf`` looks up ``pose.world_frame`` ← image frame at the image
stamp (needs ``tf2_ros``); ``topic`` interpolates ``pose.topic`` (``nav_msgs/Odometry`` or
``geometry_msgs/PoseStamped``, ``pose.type``) at the image stamp and composes it with the static
``NAME.T_body_camera``; ``none`` gives no poses; ``auto`` picks ``topic`` when ``pose.topic`` is
set, else ``tf`` when tf2_ros is importable, else ``none``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry
from rclpy.callback_groups import CallbackGroup
from rclpy.node import Node
from rclpy.qos import QoSProfile, qos_profile_sensor_data
from rclpy.qos_overriding_options import QoSOverridingOptions
from rclpy.subscription import Subscription
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import String

from spatialclaw_ros.frames import (
    FrameBuffer,
    PoseLookupError,
    PoseSource,
    PoseTrack,
    TopicPoseSource,
    pose_matrix,
    transform_from_parameter,
)
from spatialclaw_ros.ros.qos import LATCHED_QOS
from spatialclaw_ros.settings import CameraSection, NodeSettings

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
_TRIM_THRESHOLD_BYTES = 128 * 1024 * 1024
_TF_MARGIN_S = 5.0
_NS = 1_000_000_000


def _tune_allocator() -> None:
    """Let glibc recycle image-sized heap blocks instead of mmap/munmap per message (no-op elsewhere)."""
    path = ctypes.util.find_library("c")
    if path is None:
        return
    mallopt = getattr(ctypes.CDLL(path), "mallopt", None)
    if mallopt is None:
        return
    mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
    mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES)


def _matrix(transform: Any) -> np.ndarray:
    """4×4 of a ``geometry_msgs/Transform``."""
    t, q = transform.translation, transform.rotation
    return pose_matrix([t.x, t.y, t.z], [q.x, q.y, q.z, q.w])


class TfPoseSource:
    """Camera poses from tf2 at the image stamp (see :class:`spatialclaw_ros.frames.PoseSource`)."""

    def __init__(self, node: Node, world_frame: str, history_s: float) -> None:
        import tf2_ros
        from rclpy.duration import Duration

        self.world_frame = world_frame
        self._tf2 = tf2_ros
        self._buffer = tf2_ros.Buffer(cache_time=Duration(seconds=history_s + _TF_MARGIN_S))
        self._listener = tf2_ros.TransformListener(self._buffer, node, spin_thread=False)

    def _lookup(self, target: str, source: str, stamp_ns: int) -> np.ndarray:
        from rclpy.time import Time

        try:
            stamped = self._buffer.lookup_transform(target, source, Time(nanoseconds=stamp_ns))
        except (
            self._tf2.LookupException,
            self._tf2.ConnectivityException,
            self._tf2.ExtrapolationException,
            self._tf2.InvalidArgumentException,
        ) as error:
            raise PoseLookupError(f"tf {source!r} → {target!r} at {stamp_ns / _NS:.3f} s: {error}") from error
        return _matrix(stamped.transform)

    def camera_pose(
        self, camera: str, frame_id: str, stamp_ns: int, target_frame: str
    ) -> tuple[np.ndarray, str]:
        """``T_world_camera`` from tf, in ``target_frame`` or ``pose.world_frame``."""
        world = target_frame or self.world_frame
        return self._lookup(world, frame_id, stamp_ns), world

    def relative_transform(self, target_frame_id: str, source_frame_id: str, stamp_ns: int) -> np.ndarray:
        """``T_target_source`` from tf."""
        return self._lookup(target_frame_id, source_frame_id, stamp_ns)

    def close(self) -> None:
        """Unsubscribe from /tf and /tf_static."""
        self._listener.unregister()


def _sensor_qos() -> QoSProfile:
    return QoSProfile(
        history=qos_profile_sensor_data.history,
        depth=qos_profile_sensor_data.depth,
        reliability=qos_profile_sensor_data.reliability,
        durability=qos_profile_sensor_data.durability,
    )


@dataclass(frozen=True)
class _CameraConfig:
    name: str
    compressed: bool
    depth: str
    depth_compressed: bool
    labels: bool
    T_body_camera: np.ndarray | None
    T_color_depth: np.ndarray | None


def _camera_config(name: str, camera: CameraSection) -> _CameraConfig:
    return _CameraConfig(
        name=name,
        compressed=camera.compressed,
        depth=camera.depth,
        depth_compressed=camera.depth_compressed,
        labels=camera.labels,
        T_body_camera=transform_from_parameter(camera.T_body_camera, f"{name}.T_body_camera"),
        T_color_depth=transform_from_parameter(camera.T_color_depth, f"{name}.T_color_depth"),
    )


def _resolve_pose_source(source: str, topic: str) -> str:
    """``auto`` made concrete: ``topic`` when a pose topic is set, else ``tf`` when tf2_ros is importable."""
    tf_available = importlib.util.find_spec("tf2_ros") is not None
    if source == "auto":
        return "topic" if topic else ("tf" if tf_available else "none")
    if source == "topic" and not topic:
        raise ValueError("pose.source is 'topic' but pose.topic is empty")
    if source == "tf" and not tf_available:
        raise ValueError("pose.source is 'tf' but tf2_ros is not importable (source a ROS 2 install)")
    return source


class CameraIngest:
    """Feeds a :class:`FrameBuffer` from the cameras' topics (see module docstring).

    Args:
        node: the node that owns the subscriptions.
        buffer: the frame buffer to fill; its ``pose_source`` is set here.
        settings: the node's settings: ``cameras``, each camera's section and ``pose``.
        callback_group: the group every ingest callback runs in (keep it apart from queries).

    Raises:
        ValueError: a transform parameter that is not a pose, ``pose.source=topic`` without
            ``pose.topic``, or ``pose.source=tf`` without tf2_ros.
    """

    def __init__(
        self, node: Node, buffer: FrameBuffer, settings: NodeSettings, callback_group: CallbackGroup
    ) -> None:
        self._node = node
        self._buffer = buffer
        self._group = callback_group
        self._cameras = [_camera_config(name, settings.camera[name]) for name in settings.cameras]
        pose = settings.pose
        self._pose_topic = pose.topic
        self._pose_type = pose.type
        self._world_frame = pose.world_frame
        self._pose_source_name = _resolve_pose_source(pose.source, pose.topic)
        self._track = PoseTrack(history_s=buffer.history_s + _TF_MARGIN_S)
        for camera in self._cameras:
            paired = [
                stream
                for stream, wanted in (("depth", camera.depth != "false"), ("labels", camera.labels))
                if wanted
            ]
            buffer.configure_camera(camera.name, T_color_depth=camera.T_color_depth, paired=paired)
        self._subscriptions: dict[str, Subscription[Any]] = {}
        self._last_message: dict[str, float] = {}
        self._tf: TfPoseSource | None = None

    @property
    def pose_source_name(self) -> str:
        """The pose source in use: ``tf``, ``topic`` or ``none``."""
        return self._pose_source_name

    def start(self) -> None:
        """Create the subscriptions (and the tf listener or pose subscription); idempotent."""
        if self._subscriptions:
            return
        _tune_allocator()
        self._last_message.clear()
        for camera in self._cameras:
            self._subscribe_camera(camera)
        pose_source: PoseSource | None = None
        if self._pose_source_name == "topic":
            extrinsics = {c.name: c.T_body_camera for c in self._cameras if c.T_body_camera is not None}
            pose_source = TopicPoseSource(self._track, extrinsics)
            self._subscribe_pose()
        elif self._pose_source_name == "tf":
            self._tf = TfPoseSource(self._node, self._world_frame, self._buffer.history_s)
            pose_source = self._tf
        self._buffer.pose_source = pose_source

    def stop(self) -> None:
        """Destroy the subscriptions; the buffered frames (and their pose source) stay."""
        for subscription in self._subscriptions.values():
            self._node.destroy_subscription(subscription)
        self._subscriptions.clear()
        if self._tf is not None:
            self._tf.close()

    @property
    def depth_required(self) -> tuple[str, ...]:
        """The cameras whose ``NAME.depth`` is ``true``."""
        return tuple(camera.name for camera in self._cameras if camera.depth == "true")

    def waiting_topics(self, cameras: Sequence[str] | None = None) -> list[str]:
        """Resolved names of the subscribed topics that have not delivered a message yet.

        With ``cameras``, only those cameras' topics (the pose topic belongs to no camera).
        """
        return [topic for topic, age_s in self.topic_ages(cameras) if age_s is None]

    def topic_ages(self, cameras: Sequence[str] | None = None) -> list[tuple[str, float | None]]:
        """Each subscribed topic's resolved name and the seconds since its last message (None: never).

        With ``cameras``, only those cameras' topics (the pose topic belongs to no camera).
        """
        prefixes = None if cameras is None else tuple(f"{name}/" for name in cameras)
        now = time.monotonic()
        ages: list[tuple[str, float | None]] = []
        for topic, subscription in self._subscriptions.items():
            if prefixes is not None and not topic.startswith(prefixes):
                continue
            last = self._last_message.get(topic)
            ages.append((subscription.topic_name, None if last is None else now - last))
        return ages

    def _subscribe(
        self,
        msg_type: Any,
        topic: str,
        callback: Callable[[Any], None],
        raw: bool,
        qos: QoSProfile | None = None,
    ) -> None:
        last_message = self._last_message

        def on_message(message: Any) -> None:
            callback(message)
            last_message[topic] = time.monotonic()

        self._subscriptions[topic] = self._node.create_subscription(
            msg_type,
            topic,
            on_message,
            _sensor_qos() if qos is None else qos,
            callback_group=self._group,
            qos_overriding_options=QoSOverridingOptions.with_default_policies(),
            raw=raw,
        )

    def _subscribe_camera(self, camera: _CameraConfig) -> None:
        buffer, name = self._buffer, camera.name
        if camera.compressed:
            self._subscribe(
                CompressedImage,
                f"{name}/image_raw/compressed",
                lambda payload: buffer.add_image(name, payload, compressed=True),
                raw=True,
            )
        else:
            self._subscribe(
                Image, f"{name}/image_raw", lambda payload: buffer.add_image(name, payload), raw=True
            )
        self._subscribe(
            CameraInfo, f"{name}/camera_info", lambda info: buffer.set_camera_info(name, info), raw=False
        )
        if camera.labels:
            self._subscribe(
                Image, f"{name}/labels/image_raw", lambda payload: buffer.add_labels(name, payload), raw=True
            )
            self._subscribe(
                String,
                f"{name}/labels/map",
                lambda message: buffer.set_label_map(name, message),
                raw=False,
                qos=LATCHED_QOS,
            )
        if camera.depth == "false":
            return
        if camera.depth_compressed:
            self._subscribe(
                CompressedImage,
                f"{name}/depth/image_raw/compressedDepth",
                lambda payload: buffer.add_depth(name, payload, compressed=True),
                raw=True,
            )
        else:
            self._subscribe(
                Image, f"{name}/depth/image_raw", lambda payload: buffer.add_depth(name, payload), raw=True
            )
        self._subscribe(
            CameraInfo,
            f"{name}/depth/camera_info",
            lambda info: buffer.set_camera_info(name, info, "depth"),
            raw=False,
        )

    def _subscribe_pose(self) -> None:
        track, logger = self._track, self._node.get_logger()

        def on_pose(message: Any) -> None:
            pose = message.pose.pose if self._pose_type == "odometry" else message.pose
            stamp = message.header.stamp
            p, q = pose.position, pose.orientation
            try:
                track.add(
                    stamp.sec * _NS + stamp.nanosec,
                    [p.x, p.y, p.z],
                    [q.x, q.y, q.z, q.w],
                    message.header.frame_id,
                )
            except ValueError as error:
                logger.warning(f"ignoring pose on {self._pose_topic}: {error}", throttle_duration_sec=5.0)

        msg_type = Odometry if self._pose_type == "odometry" else PoseStamped
        self._subscribe(msg_type, self._pose_topic, on_pose, raw=False)
