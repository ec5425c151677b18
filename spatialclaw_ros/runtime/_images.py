"""Turn what a cell wants to show (arrays, frames, matplotlib figures) into small PNG images.

Runs inside the kernel, so it uses only numpy and the standard library: the PNG writer is a few
lines of ``zlib`` + ``struct``. Images are downscaled (never upscaled) so that the long side is at
most ``max_side_px``; the host re-encodes them as JPEG for the model.
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from typing import Any

import numpy as np

from spatialclaw_ros.protocol.images import PNG_SIGNATURE, ImageFormatError, read_header


class ImageError(TypeError):
    """An object cannot be turned into an image."""


def to_png(item: Any, max_side_px: int = 1024) -> tuple[bytes, int, int]:
    """Encode an image-like object as PNG bytes, downscaled to ``max_side_px`` on its long side.

    Args:
        item: an H×W (grey, bool mask, depth in metres, any numeric) or H×W×3/H×W×4 array (RGB(A),
            uint8 or float in [0, 1]); an object with an ``.image`` array (a ``Frame``); a matplotlib
            ``Figure`` or ``Axes``.
        max_side_px: the long side of the result is at most this many pixels.

    Returns:
        ``(png_bytes, width_px, height_px)``.

    Raises:
        ImageError: ``item`` is none of the above.
    """
    figure = _figure_of(item)
    if figure is not None:
        return _figure_png(figure, max_side_px)
    if not isinstance(item, np.ndarray) and hasattr(item, "image"):
        item = item.image
    pixels = _as_uint8(item)
    pixels = _downscale(pixels, max_side_px)
    return encode_png(pixels), pixels.shape[1], pixels.shape[0]


def encode_png(pixels: np.ndarray) -> bytes:
    """Encode an H×W (grey) or H×W×3 (RGB) uint8 array as a PNG file (Sub filter, zlib level 3)."""
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3):
        raise ImageError(f"encode_png needs H×W or H×W×3 uint8, got {pixels.dtype} {pixels.shape}")
    height, width = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    colour_type = {1: 0, 3: 2}[channels]
    rows = np.ascontiguousarray(pixels).reshape(height, width, channels)
    filtered = rows.copy()
    filtered[:, 1:, :] = rows[:, 1:, :] - rows[:, :-1, :]
    scanlines = np.empty((height, 1 + width * channels), dtype=np.uint8)
    scanlines[:, 0] = 1
    scanlines[:, 1:] = filtered.reshape(height, width * channels)
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(scanlines.tobytes(), 3))
        + _chunk(b"IEND", b"")
    )


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels read from a PNG header."""
    try:
        header = read_header(png)
    except ImageFormatError as error:
        raise ImageError(f"not a PNG file: {error}") from None
    if header.format != "png":
        raise ImageError(f"not a PNG file but {header.format}")
    return header.width, header.height


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _figure_of(item: Any) -> Any:
    if hasattr(item, "savefig") and hasattr(item, "get_size_inches"):
        return item
    figure = getattr(item, "figure", None)
    if figure is not None and hasattr(figure, "savefig"):
        return figure
    return None


def _figure_png(figure: Any, max_side_px: int) -> tuple[bytes, int, int]:
    width_in, height_in = figure.get_size_inches()
    dpi = min(float(figure.get_dpi()), max_side_px / max(width_in, height_in, 1e-6))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    png = buffer.getvalue()
    width, height = png_size(png)
    return png, width, height


def _as_uint8(item: Any) -> np.ndarray:
    if not isinstance(item, np.ndarray):
        raise ImageError(
            f"cannot show a {type(item).__name__}: pass an array (H×W or H×W×3), a Frame or a figure"
        )
    if item.ndim == 3 and item.shape[2] == 1:
        item = item[:, :, 0]
    if item.ndim == 3 and item.shape[2] == 4:
        item = item[:, :, :3]
    if not (item.ndim == 2 or (item.ndim == 3 and item.shape[2] == 3)) or item.size == 0:
        raise ImageError(f"cannot show an array of shape {item.shape}: need H×W, H×W×3 or H×W×4")
    if item.dtype == np.bool_:
        return item.astype(np.uint8) * 255
    if item.dtype == np.uint8:
        return item
    if not np.issubdtype(item.dtype, np.number):
        raise ImageError(f"cannot show an array of dtype {item.dtype}")
    values = item.astype(np.float32)
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(item.shape, dtype=np.uint8)
    low = float(values[finite].min())
    high = float(values[finite].max())
    if item.ndim == 3 and np.issubdtype(item.dtype, np.floating) and low >= 0.0 and high <= 1.0:
        low, high = 0.0, 1.0
    scale = 255.0 / (high - low) if high > low else 0.0
    scaled = np.where(finite, (values - low) * scale, 0.0)
    return np.clip(scaled + 0.5, 0, 255).astype(np.uint8)


def _downscale(pixels: np.ndarray, max_side_px: int) -> np.ndarray:
    factor = math.ceil(max(pixels.shape[:2]) / max_side_px)
    if factor <= 1:
        return pixels
    if min(pixels.shape[:2]) < factor:
        return np.ascontiguousarray(pixels[::factor, ::factor])
    height = pixels.shape[0] // factor * factor
    width = pixels.shape[1] // factor * factor
    cropped = pixels[:height, :width].astype(np.float32)
    blocks = cropped.reshape(height // factor, factor, width // factor, factor, *pixels.shape[2:])
    return (blocks.mean(axis=(1, 3)) + 0.5).astype(np.uint8)
