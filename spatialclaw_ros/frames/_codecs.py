"""Image codecs: sensor_msgs/Image and CompressedImage ↔ numpy, with cv_bridge's semantics.

Works on any object with the message's attributes (real rclpy messages, the zero-copy views of
serialized messages in ``_cdr``, or plain dataclasses), so this module needs no ROS.

Convention:
    - Colour images decode to ``(H, W, 3)`` uint8 RGB. ``bgr8``/``bgra8`` are reordered,
      alpha is dropped, ``mono8`` is replicated to three channels, ``mono16`` keeps its 8 most
      significant bits.
    - Depth decodes to ``(H, W)`` float32 metres with NaN where invalid (REP-118): ``16UC1``
      (and ``mono16`` on a depth stream) holds millimetres with 0 invalid; ``32FC1`` holds
      metres with NaN/Inf invalid.
    - Instance labels (simulators' segmentation images) decode to ``(H, W)`` integer ids, values
      unchanged: ``mono8`` → uint8, ``mono16``/``16UC1`` → uint16, ``32SC1`` → int32. They must
      be pixel-aligned with the colour image of the same camera (same size).
    - Rows may be padded (``step`` > ``width`` × bytes per pixel); multi-byte pixels follow
      ``is_bigendian``. ``len(data)`` must equal ``height × step`` exactly.
    - Compressed colour: any format OpenCV decodes (JPEG, PNG), as written by image_transport's
      ``compressed`` plugin (``"rgb8; jpeg compressed bgr8"``) or plain ``"jpeg"``/``"png"``.
    - Compressed depth: image_transport's ``compressedDepth`` PNG codec, a 12-byte
      configuration header (int32 format, float32 quantisation A, B) then a 16-bit PNG; for
      ``32FC1`` the PNG holds quantised inverse depth ``v = A / depth + B`` (0 invalid).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np

from ._errors import FrameDecodeError

Stream = Literal["color", "depth", "labels"]

#: encoding → (numpy dtype char, channels) of the encodings this package reads.
ENCODINGS: dict[str, tuple[str, int]] = {
    "rgb8": ("u1", 3),
    "bgr8": ("u1", 3),
    "rgba8": ("u1", 4),
    "bgra8": ("u1", 4),
    "mono8": ("u1", 1),
    "mono16": ("u2", 1),
    "16UC1": ("u2", 1),
    "32FC1": ("f4", 1),
    "32SC1": ("i4", 1),
}
COLOR_ENCODINGS = frozenset({"rgb8", "bgr8", "rgba8", "bgra8", "mono8", "mono16"})
DEPTH_ENCODINGS = frozenset({"16UC1", "mono16", "32FC1"})
LABEL_ENCODINGS = frozenset({"mono8", "mono16", "16UC1", "32SC1"})
_STREAM_ENCODINGS: dict[Stream, frozenset[str]] = {
    "color": COLOR_ENCODINGS,
    "depth": DEPTH_ENCODINGS,
    "labels": LABEL_ENCODINGS,
}
_STREAM_NAMES: dict[Stream, str] = {"color": "colour", "depth": "depth", "labels": "labels"}

_COMPRESSED_DEPTH_HEADER = struct.Struct("<iff")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: image_transport's compressedDepth defaults (depth_quantization=100, depth_max=10 m).
_INV_DEPTH_QUANTIZATION = 100.0
_INV_DEPTH_MAX_M = 10.0


def _byte_view(data: Any) -> np.ndarray:
    """The message's ``data`` as a flat uint8 array, without a copy when it supports the buffer protocol."""
    try:
        return np.frombuffer(data, dtype=np.uint8)
    except TypeError:
        return np.asarray(data, dtype=np.uint8).reshape(-1)


def _prefix(stream: Stream) -> str:
    """Prefix of the message fields of ``stream`` in error messages (``depth.step``, ``labels.data``)."""
    return "" if stream == "color" else stream + "."


def check_image(msg: Any, camera: str, stream: Stream = "color") -> None:
    """Check a raw Image's metadata against its data without touching the pixels.

    Raises:
        FrameDecodeError: empty image, unknown or wrong-stream encoding, bad ``is_bigendian``,
            ``step`` too small for ``width``, or ``len(data) != height × step``.
    """
    prefix = _prefix(stream)
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height == 0 or width == 0:
        raise FrameDecodeError(camera, prefix + "height" if height == 0 else prefix + "width", "empty image")
    encoding = msg.encoding
    allowed = _STREAM_ENCODINGS[stream]
    if encoding not in ENCODINGS:
        known = ", ".join(sorted(allowed))
        raise FrameDecodeError(
            camera, prefix + "encoding", f"unsupported encoding {encoding!r} (known: {known})"
        )
    if encoding not in allowed:
        kind = " or ".join(_STREAM_NAMES[s] for s, names in _STREAM_ENCODINGS.items() if encoding in names)
        raise FrameDecodeError(
            camera,
            prefix + "encoding",
            f"{encoding!r} is a {kind} encoding, not valid on the {stream} stream "
            f"(known: {', '.join(sorted(allowed))})",
        )
    if int(msg.is_bigendian) not in (0, 1):
        raise FrameDecodeError(camera, prefix + "is_bigendian", f"must be 0 or 1, got {msg.is_bigendian}")
    dtype, channels = ENCODINGS[encoding]
    row_bytes = width * channels * int(dtype[1])
    if step < row_bytes:
        raise FrameDecodeError(
            camera, prefix + "step", f"step {step} < width {width} × {row_bytes // width} bytes per pixel"
        )
    size = len(_byte_view(msg.data))
    if size != height * step:
        raise FrameDecodeError(
            camera,
            prefix + "data",
            f"has {size} bytes but height × step = {height} × {step} = {height * step}",
        )


def image_to_numpy(msg: Any, camera: str = "", stream: Stream = "color") -> np.ndarray:
    """Pixels of a raw Image in its own encoding: ``(H, W)`` or ``(H, W, C)``, native byte order.

    The result is a view of ``msg.data`` when no byte swap is needed (cv_bridge's
    ``passthrough``), else a native-endian copy.

    Raises:
        FrameDecodeError: see :func:`check_image`.
    """
    check_image(msg, camera, stream)
    dtype_char, channels = ENCODINGS[msg.encoding]
    itemsize = int(dtype_char[1])
    byteorder = ">" if int(msg.is_bigendian) and itemsize > 1 else "<"
    dtype = np.dtype(byteorder + dtype_char)
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    buffer = _byte_view(msg.data)
    shape: tuple[int, ...] = (height, width, channels)
    strides: tuple[int, ...] = (step, channels * itemsize, itemsize)
    if channels == 1:
        shape, strides = shape[:2], strides[:2]
    pixels = np.ndarray(shape, dtype=dtype, buffer=buffer, strides=strides)
    if not dtype.isnative:
        pixels = pixels.astype(dtype.newbyteorder("="))
    return pixels


def _to_rgb(pixels: np.ndarray, encoding: str) -> np.ndarray:
    if encoding == "rgb8":
        return pixels
    if encoding == "bgr8":
        return pixels[..., ::-1]
    if encoding == "rgba8":
        return pixels[..., :3]
    if encoding == "bgra8":
        return pixels[..., 2::-1]
    gray = pixels if encoding == "mono8" else (pixels >> 8).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=2)


def decode_color(msg: Any, camera: str) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB of a raw colour Image (a view of ``msg.data`` for ``rgb8``).

    Raises:
        FrameDecodeError: see :func:`check_image`.
    """
    return _to_rgb(image_to_numpy(msg, camera, "color"), msg.encoding)


def decode_depth(msg: Any, camera: str) -> np.ndarray:
    """``(H, W)`` float32 depth in metres, NaN invalid, of a raw ``16UC1``/``mono16``/``32FC1`` Image.

    Raises:
        FrameDecodeError: see :func:`check_image`.
    """
    pixels = image_to_numpy(msg, camera, "depth")
    return depth_to_metres(pixels)


def decode_labels(msg: Any, camera: str, shape: tuple[int, int] | None = None) -> np.ndarray:
    """``(H, W)`` integer instance ids of a raw label Image (``mono8``, ``mono16``, ``16UC1``, ``32SC1``).

    Values are not scaled: ``mono8`` gives uint8, ``mono16``/``16UC1`` uint16, ``32SC1`` int32
    (native byte order; a view of ``msg.data`` when no byte swap is needed).

    Args:
        msg: the label Image.
        camera: camera name, for error messages.
        shape: ``(height, width)`` of the colour image the labels belong to; a label image of
            another size is an error (labels are never resampled).

    Raises:
        FrameDecodeError: see :func:`check_image`, or a size that differs from ``shape``.
    """
    pixels = image_to_numpy(msg, camera, "labels")
    if shape is not None and pixels.shape != tuple(shape):
        field = "labels.height" if pixels.shape[0] != shape[0] else "labels.width"
        raise FrameDecodeError(
            camera,
            field,
            f"label image is {pixels.shape[1]}×{pixels.shape[0]}, colour image is {shape[1]}×{shape[0]} "
            "(labels must be pixel-aligned with the colour image)",
        )
    return pixels


def depth_to_metres(pixels: np.ndarray) -> np.ndarray:
    """``(H, W)`` float32 metres, NaN invalid, of depth pixels: uint16 millimetres (0: invalid) or floats."""
    if pixels.dtype == np.uint16:
        depth_m = np.divide(pixels, np.float32(1000.0), dtype=np.float32)
        depth_m[pixels == 0] = np.nan
        return depth_m
    depth_m = np.array(pixels, dtype=np.float32)
    depth_m[~np.isfinite(depth_m)] = np.nan
    return depth_m


def _decode_bytes(data: Any, camera: str, field: str) -> np.ndarray:
    buffer = _byte_view(data)
    if buffer.size == 0:
        raise FrameDecodeError(camera, field, "empty payload")
    pixels = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
    if pixels is None:
        raise FrameDecodeError(camera, field, "payload is not a decodable JPEG/PNG image")
    return pixels


def compressed_kind(fmt: str) -> Literal["image", "depth"]:
    """Whether a CompressedImage ``format`` string denotes a colour image or a compressedDepth one."""
    return "depth" if "compresseddepth" in fmt.lower().replace(" ", "") else "image"


def check_compressed(msg: Any, camera: str, stream: Stream = "color") -> None:
    """Check a CompressedImage's format and payload size without decoding it.

    Raises:
        FrameDecodeError: empty payload, or a format of the wrong kind for the stream.
    """
    prefix = _prefix(stream)
    if _byte_view(msg.data).size == 0:
        raise FrameDecodeError(camera, prefix + "data", "empty payload")
    kind = compressed_kind(msg.format)
    if (kind == "depth") != (stream == "depth"):
        raise FrameDecodeError(
            camera, prefix + "format", f"format {msg.format!r} is not valid on the {stream} stream"
        )


def decode_compressed_color(msg: Any, camera: str) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB of a JPEG/PNG CompressedImage.

    Raises:
        FrameDecodeError: empty or undecodable payload, or a compressedDepth format.
    """
    check_compressed(msg, camera, "color")
    pixels = _decode_bytes(msg.data, camera, "data")
    if pixels.ndim == 2:
        gray = pixels if pixels.dtype == np.uint8 else (pixels >> 8).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if pixels.dtype != np.uint8:
        pixels = (pixels >> 8).astype(np.uint8)
    code = cv2.COLOR_BGRA2RGB if pixels.shape[2] == 4 else cv2.COLOR_BGR2RGB
    return cv2.cvtColor(pixels, code)


def decode_compressed_depth(msg: Any, camera: str) -> np.ndarray:
    """``(H, W)`` float32 metres (NaN invalid) of an image_transport ``compressedDepth`` message.

    Raises:
        FrameDecodeError: not a compressedDepth format, an unsupported codec (only PNG is read),
            an unsupported source encoding, or an undecodable payload.
    """
    check_compressed(msg, camera, "depth")
    fmt = msg.format
    parts = [part.strip() for part in fmt.split(";")]
    encoding = parts[0] if len(parts) > 1 else "16UC1"
    if encoding not in ("16UC1", "32FC1"):
        raise FrameDecodeError(
            camera, "depth.format", f"unsupported compressedDepth source encoding {encoding!r}"
        )
    codec = parts[-1].lower().replace("compresseddepth", "").strip() or "png"
    if codec != "png":
        raise FrameDecodeError(
            camera, "depth.format", f"unsupported compressedDepth codec {codec!r} (only png)"
        )
    data = _byte_view(msg.data)
    offset = _COMPRESSED_DEPTH_HEADER.size
    if data[offset : offset + len(_PNG_MAGIC)].tobytes() != _PNG_MAGIC:
        raise FrameDecodeError(camera, "depth.data", "no PNG after the 12-byte compressedDepth header")
    _, quant_a, quant_b = _COMPRESSED_DEPTH_HEADER.unpack(data[:offset].tobytes())
    pixels = _decode_bytes(data[offset:], camera, "depth.data")
    if pixels.dtype != np.uint16 or pixels.ndim != 2:
        raise FrameDecodeError(
            camera, "depth.data", f"PNG is {pixels.dtype} with shape {pixels.shape}, not 16-bit"
        )
    if encoding == "16UC1":
        return depth_to_metres(pixels)
    valid = pixels != 0
    depth_m = np.full(pixels.shape, np.nan, dtype=np.float32)
    depth_m[valid] = np.float32(quant_a) / (pixels[valid].astype(np.float32) - np.float32(quant_b))
    return depth_m


@dataclass(frozen=True)
class ImageFields:
    """The fields of a ``sensor_msgs/Image`` (pass ``as_kwargs()`` to the message constructor)."""

    height: int
    width: int
    encoding: str
    is_bigendian: int
    step: int
    data: bytes

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``sensor_msgs.msg.Image(...)``."""
        return {
            "height": self.height,
            "width": self.width,
            "encoding": self.encoding,
            "is_bigendian": self.is_bigendian,
            "step": self.step,
            "data": self.data,
        }


@dataclass(frozen=True)
class CompressedFields:
    """The fields of a ``sensor_msgs/CompressedImage``."""

    format: str
    data: bytes

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``sensor_msgs.msg.CompressedImage(...)``."""
        return {"format": self.format, "data": self.data}


def numpy_to_image(
    pixels: np.ndarray, encoding: str, *, bigendian: bool = False, row_padding: int = 0
) -> ImageFields:
    """Image fields holding ``pixels`` (already in ``encoding``'s layout), like cv_bridge's cv2_to_imgmsg.

    Args:
        pixels: ``(H, W)`` or ``(H, W, C)`` array whose dtype and channels match ``encoding``.
        encoding: one of :data:`ENCODINGS`.
        bigendian: write multi-byte pixels big-endian and set ``is_bigendian``.
        row_padding: extra bytes at the end of each row (``step`` grows by this much).

    Raises:
        ValueError: unknown encoding, or pixels whose dtype/channels do not match it.
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"unsupported encoding {encoding!r}")
    dtype_char, channels = ENCODINGS[encoding]
    pixels = np.asarray(pixels)
    shape_channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    if (
        pixels.ndim not in (2, 3)
        or shape_channels != channels
        or pixels.dtype.kind + str(pixels.dtype.itemsize) != dtype_char[0] + dtype_char[1]
    ):
        raise ValueError(f"pixels {pixels.dtype} {pixels.shape} do not match encoding {encoding!r}")
    height, width = pixels.shape[:2]
    byteorder = ">" if bigendian else "<"
    rows = (
        np.ascontiguousarray(pixels, dtype=np.dtype(byteorder + dtype_char))
        .reshape(height, -1)
        .view(np.uint8)
    )
    if row_padding:
        rows = np.concatenate([rows, np.zeros((height, row_padding), np.uint8)], axis=1)
    return ImageFields(height, width, encoding, int(bigendian), rows.shape[1], rows.tobytes())


def depth_to_image(depth_m: np.ndarray, encoding: str = "16UC1", *, bigendian: bool = False) -> ImageFields:
    """Image fields of a metric depth map: ``16UC1`` millimetres (NaN → 0) or ``32FC1`` metres."""
    depth_m = np.asarray(depth_m, dtype=np.float32)
    if encoding == "32FC1":
        return numpy_to_image(depth_m, encoding, bigendian=bigendian)
    if encoding != "16UC1":
        raise ValueError(f"depth encoding must be 16UC1 or 32FC1, got {encoding!r}")
    return numpy_to_image(_metres_to_millimetres(depth_m), encoding, bigendian=bigendian)


def _metres_to_millimetres(depth_m: np.ndarray) -> np.ndarray:
    millimetres = np.rint(np.nan_to_num(depth_m, nan=0.0, posinf=0.0, neginf=0.0) * 1000.0)
    return np.clip(millimetres, 0, 65535).astype(np.uint16)


def rgb_to_compressed(
    rgb: np.ndarray, codec: Literal["jpeg", "png"] = "jpeg", quality: int = 95
) -> CompressedFields:
    """CompressedImage fields of an ``(H, W, 3)`` uint8 RGB image, as image_transport writes them."""
    bgr = cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.uint8), cv2.COLOR_RGB2BGR)
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if codec == "jpeg" else []
    ok, encoded = cv2.imencode("." + ("jpg" if codec == "jpeg" else "png"), bgr, params)
    if not ok:
        raise ValueError(f"OpenCV could not encode {codec}")
    return CompressedFields(f"rgb8; {codec} compressed bgr8", encoded.tobytes())


def depth_to_compressed(depth_m: np.ndarray, encoding: str = "16UC1") -> CompressedFields:
    """``compressedDepth`` PNG fields of a metric depth map (``16UC1`` mm or ``32FC1`` inverse depth)."""
    depth_m = np.asarray(depth_m, dtype=np.float32)
    if encoding == "16UC1":
        pixels = _metres_to_millimetres(depth_m)
        header = _COMPRESSED_DEPTH_HEADER.pack(0, 0.0, 0.0)
    elif encoding == "32FC1":
        quant_a = _INV_DEPTH_QUANTIZATION * (_INV_DEPTH_QUANTIZATION + 1.0)
        quant_b = 1.0 - quant_a / _INV_DEPTH_MAX_M
        valid = np.isfinite(depth_m) & (depth_m > 0) & (depth_m < _INV_DEPTH_MAX_M)
        pixels = np.zeros(depth_m.shape, np.uint16)
        pixels[valid] = np.rint(quant_a / depth_m[valid] + quant_b).astype(np.uint16)
        header = _COMPRESSED_DEPTH_HEADER.pack(0, quant_a, quant_b)
    else:
        raise ValueError(f"depth encoding must be 16UC1 or 32FC1, got {encoding!r}")
    ok, encoded = cv2.imencode(".png", pixels)
    if not ok:
        raise ValueError("OpenCV could not encode png")
    return CompressedFields(f"{encoding}; compressedDepth png", header + encoded.tobytes())
