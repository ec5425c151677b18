"""Zero-copy views of serialized (CDR) sensor_msgs/Image and CompressedImage messages.

The ingest subscribes with ``raw=True``: rclpy hands over the serialized message as ``bytes``
and nothing is deserialized per frame. These views read the header fields the buffer needs
(stamp, frame id, size, encoding) in a few microseconds and expose ``data`` as a memoryview into
the same bytes, so the codecs decode straight from the received buffer at snapshot time.

Layout (OMG CDR, XCDR1 and plain XCDR2 agree for these types, whose fields align to at most
4 bytes): a 4-byte encapsulation header (0x00 kind, 2 option bytes), then the fields in
declaration order, each aligned to its size relative to the end of the encapsulation header;
strings are a uint32 length that counts the terminating NUL, then the characters and the NUL;
sequences are a uint32 element count, then the elements.
"""

from __future__ import annotations

import dataclasses
import mmap
import struct
from dataclasses import dataclass

from ._errors import FrameDecodeError

_ORIGIN = 4
_LITTLE_ENDIAN_KINDS = frozenset({0x01, 0x07})
_BIG_ENDIAN_KINDS = frozenset({0x00, 0x06})


@dataclass(frozen=True, slots=True)
class StampView:
    """``builtin_interfaces/Time`` of a serialized message."""

    sec: int
    nanosec: int


@dataclass(frozen=True, slots=True)
class HeaderView:
    """``std_msgs/Header`` of a serialized message."""

    stamp: StampView
    frame_id: str


@dataclass(frozen=True, slots=True)
class ImageView:
    """The fields of a serialized ``sensor_msgs/Image``; ``data`` aliases the serialized bytes."""

    header: HeaderView
    height: int
    width: int
    encoding: str
    is_bigendian: int
    step: int
    data: memoryview


@dataclass(frozen=True, slots=True)
class CompressedImageView:
    """The fields of a serialized ``sensor_msgs/CompressedImage``; ``data`` aliases the bytes."""

    header: HeaderView
    format: str
    data: memoryview


class _Reader:
    """Sequential CDR reader over one serialized message."""

    __slots__ = ("_buffer", "_camera", "_endian", "_pos")

    def __init__(self, buffer: bytes, camera: str) -> None:
        self._buffer = buffer
        self._camera = camera
        if len(buffer) < _ORIGIN or buffer[0] != 0:
            raise FrameDecodeError(camera, "serialization", "not a CDR-encapsulated message")
        kind = buffer[1]
        if kind in _LITTLE_ENDIAN_KINDS:
            self._endian = "<"
        elif kind in _BIG_ENDIAN_KINDS:
            self._endian = ">"
        else:
            raise FrameDecodeError(
                camera, "serialization", f"unsupported CDR encapsulation 0x{buffer[0]:02x}{kind:02x}"
            )
        self._pos = _ORIGIN

    def _align(self, size: int) -> None:
        offset = self._pos - _ORIGIN
        self._pos += (-offset) % size

    def _need(self, size: int, field: str) -> None:
        if self._pos + size > len(self._buffer):
            raise FrameDecodeError(self._camera, field, "serialized message is truncated")

    def uint32(self, field: str) -> int:
        self._align(4)
        self._need(4, field)
        (value,) = struct.unpack_from(self._endian + "I", self._buffer, self._pos)
        self._pos += 4
        return int(value)

    def int32(self, field: str) -> int:
        self._align(4)
        self._need(4, field)
        (value,) = struct.unpack_from(self._endian + "i", self._buffer, self._pos)
        self._pos += 4
        return int(value)

    def uint8(self, field: str) -> int:
        self._need(1, field)
        value = self._buffer[self._pos]
        self._pos += 1
        return value

    def string(self, field: str) -> str:
        length = self.uint32(field)
        self._need(length, field)
        raw = self._buffer[self._pos : self._pos + length]
        self._pos += length
        try:
            return raw.rstrip(b"\x00").decode("utf-8")
        except UnicodeDecodeError as error:
            raise FrameDecodeError(self._camera, field, "string is not UTF-8") from error

    def octets(self, field: str) -> memoryview:
        length = self.uint32(field)
        self._need(length, field)
        view = memoryview(self._buffer)[self._pos : self._pos + length]
        self._pos += length
        return view

    def header(self) -> HeaderView:
        sec = self.int32("header.stamp.sec")
        nanosec = self.uint32("header.stamp.nanosec")
        return HeaderView(StampView(sec, nanosec), self.string("header.frame_id"))


def parse_image(buffer: bytes, camera: str) -> ImageView:
    """View a serialized ``sensor_msgs/Image`` without copying its pixels.

    Raises:
        FrameDecodeError: the bytes are not a well-formed serialized Image.
    """
    reader = _Reader(buffer, camera)
    header = reader.header()
    height = reader.uint32("height")
    width = reader.uint32("width")
    encoding = reader.string("encoding")
    is_bigendian = reader.uint8("is_bigendian")
    step = reader.uint32("step")
    data = reader.octets("data")
    return ImageView(header, height, width, encoding, is_bigendian, step, data)


def parse_compressed_image(buffer: bytes, camera: str) -> CompressedImageView:
    """View a serialized ``sensor_msgs/CompressedImage`` without copying its payload.

    Raises:
        FrameDecodeError: the bytes are not a well-formed serialized CompressedImage.
    """
    reader = _Reader(buffer, camera)
    header = reader.header()
    fmt = reader.string("format")
    return CompressedImageView(header, fmt, reader.octets("data"))


def stamp_ns(header: HeaderView | object) -> int:
    """Nanoseconds since the clock's epoch of a message header (any object with ``stamp``)."""
    stamp = header.stamp  # type: ignore[attr-defined]
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def detach(view: ImageView | CompressedImageView) -> ImageView | CompressedImageView:
    """The view with its ``data`` copied into an anonymous memory mapping of its own.

    A frame kept for minutes should not pin the received message in the heap: there, long-lived
    payloads interleaved with the stream of short-lived ones fragment the allocator's arenas and
    the process keeps far more memory than it holds. A mapping of its own is returned to the
    operating system as soon as the last view of it is dropped. A view that already owns its
    mapping is returned as is.
    """
    if isinstance(view.data.obj, mmap.mmap):
        return view
    # Populating the mapping in one call costs about half of faulting its pages in one by one.
    flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | getattr(mmap, "MAP_POPULATE", 0)
    pages = mmap.mmap(-1, max(view.data.nbytes, 1), flags=flags)
    data = memoryview(pages)[: view.data.nbytes]
    data[:] = view.data
    return dataclasses.replace(view, data=data)
