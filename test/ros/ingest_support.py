"""Helpers of the ingest tests: a camera publisher process and an in-process ingest node.

Run as a script, it publishes the cameras of a JSON configuration (argv[1]) until SIGINT:
``{"namespace": "/t", "rate_hz": 20, "t0": 1700000000.0, "odometry": "odom", "cameras": {"front":
{"width": 32, "height": 24, "encoding": "rgb8", "row_padding": 0, "compressed": false, "depth":
"16UC1", "depth_bigendian": false, "depth_compressed": false, "bad": ""}}}``. Every pixel is a
function of the image stamp (:func:`rgb_for`, :func:`depth_m_for`) and the odometry follows
:func:`body_pose`, so a test recomputes what was published from what it received.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import rclpy
from nav_msgs.msg import Odometry
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.context import Context
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header

from spatialclaw_ros.frames import (
    FrameBuffer,
    depth_to_compressed,
    depth_to_image,
    numpy_to_image,
    rgb_to_compressed,
)
from spatialclaw_ros.ros.ingest import CameraIngest
from spatialclaw_ros.ros.parameters import declare_parameters, read_settings

NS = 1_000_000_000
BODY_SPEED_MPS = 0.5
BODY_YAW_RATE = 0.3


def rgb_for(stamp_ns: int, height: int, width: int) -> np.ndarray:
    """The RGB image published at ``stamp_ns``."""
    return np.random.default_rng(stamp_ns % 2**32).integers(0, 256, (height, width, 3), dtype=np.uint8)


def depth_m_for(stamp_ns: int, height: int, width: int) -> np.ndarray:
    """The depth (metres, NaN invalid, whole millimetres) published at ``stamp_ns``."""
    millimetres = np.random.default_rng(stamp_ns % 2**32 + 1).integers(0, 6000, (height, width))
    return np.where(millimetres < 300, np.nan, millimetres / 1000.0).astype(np.float32)


def intrinsics(width: int, height: int) -> list[float]:
    """Row-major K of a camera of that size."""
    return [float(width), 0.0, (width - 1) / 2, 0.0, float(width), (height - 1) / 2, 0.0, 0.0, 1.0]


def body_pose(t_s: float) -> tuple[list[float], list[float]]:
    """Analytic motion: forward along x at constant speed while turning at a constant yaw rate."""
    yaw = BODY_YAW_RATE * t_s
    position = [BODY_SPEED_MPS * t_s, 0.2 * math.sin(t_s), 0.0]
    return position, [0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]


def _image_message(camera: Mapping[str, Any], name: str, stamp: Any) -> Any:
    stamp_ns = stamp.sec * NS + stamp.nanosec
    rgb = rgb_for(stamp_ns, camera["height"], camera["width"])
    if camera.get("compressed"):
        message = CompressedImage(**rgb_to_compressed(rgb, "png").as_kwargs())
    else:
        encoding = camera.get("encoding", "rgb8")
        pixels = {"bgr8": rgb[..., ::-1], "mono8": rgb[..., 0]}.get(encoding, rgb)
        message = Image(
            **numpy_to_image(pixels, encoding, row_padding=camera.get("row_padding", 0)).as_kwargs()
        )
        if camera.get("bad") == "short_data":
            message.data = bytes(message.data)[:-1]
        elif camera.get("bad") == "encoding":
            message.encoding = "yuv422"
    message.header.stamp = stamp
    message.header.frame_id = f"{name}_optical"
    return message


def _depth_message(camera: Mapping[str, Any], name: str, stamp: Any) -> Any:
    depth_m = depth_m_for(stamp.sec * NS + stamp.nanosec, camera["height"], camera["width"])
    if camera.get("depth_compressed"):
        message = CompressedImage(**depth_to_compressed(depth_m, "16UC1").as_kwargs())
    else:
        fields = depth_to_image(depth_m, camera["depth"], bigendian=camera.get("depth_bigendian", False))
        message = Image(**fields.as_kwargs())
    message.header.stamp = stamp
    message.header.frame_id = f"{name}_optical"
    return message


def publish(config: Mapping[str, Any]) -> None:
    """Publish the configured cameras (and odometry) until shut down."""
    rclpy.init()
    node = rclpy.create_node("ingest_test_publisher", namespace=config["namespace"])
    qos = qos_profile_sensor_data
    publishers: list[tuple[str, Mapping[str, Any], Any, Any, Any, Any]] = []
    for name, camera in config["cameras"].items():
        image_type, image_topic = (
            (CompressedImage, f"{name}/image_raw/compressed")
            if camera.get("compressed")
            else (Image, f"{name}/image_raw")
        )
        depth = depth_info = None
        if camera.get("depth"):
            depth_type, depth_topic = (
                (CompressedImage, f"{name}/depth/image_raw/compressedDepth")
                if camera.get("depth_compressed")
                else (Image, f"{name}/depth/image_raw")
            )
            depth = node.create_publisher(depth_type, depth_topic, qos)
            depth_info = node.create_publisher(CameraInfo, f"{name}/depth/camera_info", qos)
        image = node.create_publisher(image_type, image_topic, qos)
        info = node.create_publisher(CameraInfo, f"{name}/camera_info", qos)
        publishers.append((name, camera, image, info, depth, depth_info))
    odometry = node.create_publisher(Odometry, config["odometry"], qos) if config.get("odometry") else None

    def on_frame() -> None:
        stamp = node.get_clock().now().to_msg()
        for name, camera, image, info, depth, depth_info in publishers:
            k = intrinsics(camera["width"], camera["height"])
            image.publish(_image_message(camera, name, stamp))
            info.publish(
                CameraInfo(
                    header=image_header(stamp, name), width=camera["width"], height=camera["height"], k=k
                )
            )
            if depth is not None:
                depth.publish(_depth_message(camera, name, stamp))
                depth_info.publish(
                    CameraInfo(
                        header=image_header(stamp, name), width=camera["width"], height=camera["height"], k=k
                    )
                )

    def on_odometry() -> None:
        stamp = node.get_clock().now().to_msg()
        position, quaternion = body_pose(stamp.sec + stamp.nanosec / NS - config["t0"])
        message = Odometry()
        message.header.stamp = stamp
        message.header.frame_id = "odom"
        pose = message.pose.pose
        pose.position.x, pose.position.y, pose.position.z = position
        pose.orientation.x, pose.orientation.y, pose.orientation.z, pose.orientation.w = quaternion
        odometry.publish(message)

    node.create_timer(1.0 / config["rate_hz"], on_frame)
    if odometry is not None:
        node.create_timer(0.02, on_odometry)
    try:
        rclpy.spin(node, executor=SingleThreadedExecutor())
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


def image_header(stamp: Any, name: str) -> Any:
    """Header of camera ``name``'s images at ``stamp``."""
    return Header(stamp=stamp, frame_id=f"{name}_optical")


@contextmanager
def ingest_node(
    namespace: str,
    cameras: Sequence[str],
    parameters: Mapping[str, Any] | None = None,
    *,
    keyframe_hz: float = 100.0,
    history_s: float = 60.0,
    max_memory_mb: float = 64.0,
) -> Iterator[tuple[Node, FrameBuffer, CameraIngest]]:
    """A node with a started CameraIngest, spun in a background thread as the agent spins it.

    A SingleThreadedExecutor, as the node's: the test's own subscriptions then see each message in
    the order and at about the moment the ingest does. (rclpy's MultiThreadedExecutor delayed the
    ingest's mutually exclusive callbacks by up to ~0.2 s behind the test's own here: a depth image
    the test saw 0.6 ms after its colour image reached the buffer 212 ms after it.)
    """
    context = Context()
    rclpy.init(context=context)
    values = {"cameras": list(cameras), **(parameters or {})}
    overrides = [Parameter(name, value=value) for name, value in values.items()]
    node = rclpy.create_node(
        "ingest_under_test", namespace=namespace, context=context, parameter_overrides=overrides
    )
    declare_parameters(node)
    buffer = FrameBuffer(keyframe_hz=keyframe_hz, history_s=history_s, max_memory_mb=max_memory_mb)
    ingest = CameraIngest(node, buffer, read_settings(node), MutuallyExclusiveCallbackGroup())
    ingest.start()
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    try:
        yield node, buffer, ingest
    finally:
        ingest.stop()
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown(context=context)
        thread.join(timeout=5.0)


def publisher_command(config: Mapping[str, Any], repo_root: os.PathLike[str]) -> list[str]:
    """The command that runs this module as a publisher process (the package from the source tree)."""
    pythonpath = os.pathsep.join(filter(None, [os.fspath(repo_root), os.environ.get("PYTHONPATH", "")]))
    return ["env", f"PYTHONPATH={pythonpath}", sys.executable, __file__, json.dumps(config)]


if __name__ == "__main__":
    publish(json.loads(sys.argv[1]))
