"""Stand-in camera messages (the attributes of sensor_msgs, no ROS) and a reference CDR writer."""

from __future__ import annotations

import struct
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from spatialclaw_ros.frames import FrameBuffer, depth_to_image, numpy_to_image

NS = 1_000_000_000


@dataclass
class Stamp:
    sec: int = 0
    nanosec: int = 0


@dataclass
class Header:
    stamp: Stamp = field(default_factory=Stamp)
    frame_id: str = ""


@dataclass
class Image:
    header: Header = field(default_factory=Header)
    height: int = 0
    width: int = 0
    encoding: str = ""
    is_bigendian: int = 0
    step: int = 0
    data: bytes = b""


@dataclass
class CompressedImage:
    header: Header = field(default_factory=Header)
    format: str = ""
    data: bytes = b""


@dataclass
class CameraInfo:
    header: Header = field(default_factory=Header)
    height: int = 0
    width: int = 0
    k: tuple[float, ...] = (0.0,) * 9


def header(stamp_ns: int, frame_id: str) -> Header:
    return Header(Stamp(stamp_ns // NS, stamp_ns % NS), frame_id)


def image(fields: Any, stamp_ns: int = 0, frame_id: str = "cam_optical") -> Image:
    return Image(header(stamp_ns, frame_id), **fields.as_kwargs())


def compressed(fields: Any, stamp_ns: int = 0, frame_id: str = "cam_optical") -> CompressedImage:
    return CompressedImage(header(stamp_ns, frame_id), **fields.as_kwargs())


def camera_info(width: int, height: int, fx: float = 50.0, frame_id: str = "cam_optical") -> CameraInfo:
    k = (fx, 0.0, (width - 1) / 2, 0.0, fx, (height - 1) / 2, 0.0, 0.0, 1.0)
    return CameraInfo(header(0, frame_id), height, width, k)


def cdr_image(message: Image, little_endian: bool = True) -> bytes:
    """Serialize an Image the way CDR lays it out (written independently of the parser)."""
    writer = _CdrWriter(little_endian)
    writer.header(message.header)
    writer.uint32(message.height)
    writer.uint32(message.width)
    writer.string(message.encoding)
    writer.octet(message.is_bigendian)
    writer.uint32(message.step)
    writer.sequence(bytes(message.data))
    return writer.getvalue()


def cdr_compressed(message: CompressedImage, little_endian: bool = True) -> bytes:
    writer = _CdrWriter(little_endian)
    writer.header(message.header)
    writer.string(message.format)
    writer.sequence(bytes(message.data))
    return writer.getvalue()


class _CdrWriter:
    def __init__(self, little_endian: bool) -> None:
        self._endian = "<" if little_endian else ">"
        self._body = bytearray()
        self._prefix = bytes([0, 1 if little_endian else 0, 0, 0])

    def _align(self, size: int) -> None:
        self._body += b"\0" * ((-len(self._body)) % size)

    def uint32(self, value: int) -> None:
        self._align(4)
        self._body += struct.pack(self._endian + "I", value)

    def int32(self, value: int) -> None:
        self._align(4)
        self._body += struct.pack(self._endian + "i", value)

    def octet(self, value: int) -> None:
        self._body.append(value)

    def string(self, value: str) -> None:
        raw = value.encode() + b"\0"
        self.uint32(len(raw))
        self._body += raw

    def sequence(self, value: bytes) -> None:
        self.uint32(len(value))
        self._body += value

    def header(self, value: Header) -> None:
        self.int32(value.stamp.sec)
        self.uint32(value.stamp.nanosec)
        self.string(value.frame_id)

    def getvalue(self) -> bytes:
        return self._prefix + bytes(self._body)


@pytest.fixture
def msgs() -> types.SimpleNamespace:
    """Builders of stand-in messages and their CDR serialization."""
    return types.SimpleNamespace(
        Image=Image,
        CompressedImage=CompressedImage,
        CameraInfo=CameraInfo,
        header=header,
        image=image,
        compressed=compressed,
        camera_info=camera_info,
        cdr_image=cdr_image,
        cdr_compressed=cdr_compressed,
    )


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@dataclass
class Published:
    """What a fake camera published: RGB and depth (metres) by stamp."""

    rgb: dict[int, np.ndarray] = field(default_factory=dict)
    depth_m: dict[int, np.ndarray] = field(default_factory=dict)


@pytest.fixture
def publish(rng: np.random.Generator) -> Callable[..., Published]:
    """Feed a buffer with random frames of one camera at a rate; returns what was sent."""

    def run(
        buffer: FrameBuffer,
        camera: str,
        start_s: float,
        count: int,
        rate_hz: float,
        size: tuple[int, int] = (6, 8),
        with_depth: bool = False,
        raw: bool = True,
    ) -> Published:
        height, width = size
        sent = Published()
        buffer.set_camera_info(camera, camera_info(width, height, frame_id=f"{camera}_optical"))
        for i in range(count):
            stamp = round((start_s + i / rate_hz) * NS)
            rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            message = image(numpy_to_image(rgb, "rgb8"), stamp, f"{camera}_optical")
            buffer.add_image(camera, cdr_image(message) if raw else message, received_ns=stamp)
            sent.rgb[stamp] = rgb
            if with_depth:
                depth_mm = rng.integers(0, 5000, (height, width)).astype(np.float32)
                depth = image(depth_to_image(depth_mm / 1000.0), stamp, f"{camera}_optical")
                buffer.add_depth(camera, cdr_image(depth) if raw else depth, received_ns=stamp)
                sent.depth_m[stamp] = np.where(depth_mm == 0, np.nan, depth_mm / 1000.0).astype(np.float32)
        return sent

    return run
