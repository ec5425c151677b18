"""Real sensor_msgs, serialized by rclpy, read through the zero-copy views and the buffer."""

from __future__ import annotations

import numpy as np
import pytest
from rclpy.serialization import serialize_message
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from spatialclaw_ros.frames import (
    FrameBuffer,
    decode_color,
    decode_depth,
    depth_to_image,
    numpy_to_image,
    parse_compressed_image,
    parse_image,
    rgb_to_compressed,
    write_snapshot,
)
from spatialclaw_ros.runtime.frames import load_frames

pytestmark = pytest.mark.ros

RGB = np.random.default_rng(4).integers(0, 256, (6, 10, 3), dtype=np.uint8)


def stamped(message, sec=17, nanosec=250_000_000, frame_id="cam_optical"):
    message.header.stamp.sec, message.header.stamp.nanosec, message.header.frame_id = sec, nanosec, frame_id
    return message


def test_serialized_image_view_matches_the_message():
    message = stamped(Image(**numpy_to_image(RGB[..., ::-1], "bgr8", row_padding=3).as_kwargs()))
    view = parse_image(serialize_message(message), "cam")
    assert (view.header.stamp.sec, view.header.stamp.nanosec, view.header.frame_id) == (
        17,
        250_000_000,
        "cam_optical",
    )
    assert (view.height, view.width, view.encoding, view.is_bigendian, view.step) == (6, 10, "bgr8", 0, 33)
    assert bytes(view.data) == bytes(message.data)
    assert np.array_equal(decode_color(view, "cam"), RGB) and np.array_equal(
        decode_color(message, "cam"), RGB
    )


def test_serialized_big_endian_depth():
    depth_m = np.linspace(0.5, 5.0, 60, dtype=np.float32).reshape(6, 10)
    message = stamped(Image(**depth_to_image(depth_m, "32FC1", bigendian=True).as_kwargs()))
    np.testing.assert_array_equal(
        decode_depth(parse_image(serialize_message(message), "cam"), "cam"), depth_m
    )


def test_serialized_compressed_view():
    message = stamped(CompressedImage(**rgb_to_compressed(RGB, "png").as_kwargs()))
    view = parse_compressed_image(serialize_message(message), "cam")
    assert view.format == message.format and bytes(view.data) == bytes(message.data)


def test_buffer_takes_serialized_and_deserialized_messages_alike(tmp_path):
    buffer = FrameBuffer(keyframe_hz=float("inf"), history_s=10.0, max_memory_mb=10.0)
    buffer.set_camera_info("cam", CameraInfo(width=10, height=6, k=[9.0, 0, 4.5, 0, 9.0, 2.5, 0, 0, 1]))
    buffer.add_image("cam", serialize_message(stamped(Image(**numpy_to_image(RGB, "rgb8").as_kwargs()), 1)))
    buffer.add_image("cam", stamped(Image(**numpy_to_image(RGB[::-1], "rgb8").as_kwargs()), 2))
    write_snapshot(buffer, tmp_path / "s", None, 5.0, 4)
    frames = load_frames(tmp_path / "s")
    assert np.array_equal(frames[0].image, RGB) and np.array_equal(frames[1].image, RGB[::-1])
