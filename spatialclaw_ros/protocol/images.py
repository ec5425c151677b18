"""Which images may cross from a kernel to its host: PNG or JPEG, sized from the header before decoding.

Every image a kernel hands over (a ``show()`` display, a ``vlm.ask`` request) is sniffed by its magic
bytes and its pixel count read from the header (PNG: the ``IHDR`` chunk; JPEG: the first ``SOFn``
segment), so that a decompression bomb or an unexpected format is refused before any decoder sees it.
Standard library only: the kernel imports it too.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8"
# 4096 × 4096 px: the largest long side the host's image settings allow, squared (16.8 MP; decoded as
# 8-bit RGB that is 48 MiB).
MAX_IMAGE_PIXELS = 4096 * 4096
# A 1024 px PNG of camera noise is about 3 MiB; a photo of that size is under 2 MiB.
MAX_IMAGE_BYTES = 8 * 1024 * 1024
# Real JPEGs have a handful of segments (APPn, DQT, DHT) before their frame header; a file that needs
# more is refused rather than scanned.
MAX_JPEG_SEGMENTS = 512

# SOFn markers: start of frame in every coding process (C4 is DHT, C8 is reserved, CC is DAC).
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
# Markers without a length field: TEM, RST0-7 (SOI and EOI never come before a frame header).
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_JPEG_SOS = 0xDA


class ImageFormatError(ValueError):
    """Image bytes were refused: not PNG or JPEG, or a truncated or malformed header."""


class ImageTooLargeError(ImageFormatError):
    """An image is over the limit of encoded bytes or of decoded pixels."""


@dataclass(frozen=True)
class ImageHeader:
    """What an image's header says: ``"png"`` or ``"jpeg"``, width and height in pixels."""

    format: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        """Width × height, in pixels."""
        return self.width * self.height


def read_header(data: bytes) -> ImageHeader:
    """The format and size of a PNG or JPEG image, read from its header alone.

    Raises:
        ImageFormatError: the bytes are neither PNG nor JPEG (TIFF, WebP, BMP, PGM, JPEG 2000, …), or
            their header is truncated, malformed or gives a zero size.
    """
    if data[:8] == PNG_SIGNATURE:
        header = _png_header(data)
    elif data[:2] == JPEG_SOI:
        header = _jpeg_header(data)
    else:
        raise ImageFormatError(
            f"only PNG and JPEG images are accepted; these bytes start {bytes(data[:8])!r}"
        )
    if header.width <= 0 or header.height <= 0:
        raise ImageFormatError(
            f"the {header.format} header gives a size of {header.width}×{header.height} px"
        )
    return header


def check_image(
    data: bytes, max_pixels: int = MAX_IMAGE_PIXELS, max_bytes: int = MAX_IMAGE_BYTES
) -> ImageHeader:
    """:func:`read_header`, and refuse images over ``max_bytes`` encoded or ``max_pixels`` decoded.

    Raises:
        ImageFormatError: see :func:`read_header`.
        ImageTooLargeError: a limit is exceeded.
    """
    if len(data) > max_bytes:
        raise ImageTooLargeError(f"an image of {len(data)} bytes is over the limit of {max_bytes} bytes")
    header = read_header(data)
    if header.pixels > max_pixels:
        raise ImageTooLargeError(
            f"a {header.width}×{header.height} px {header.format} image is over the limit of "
            f"{max_pixels} pixels ({header.pixels})"
        )
    return header


def _png_header(data: bytes) -> ImageHeader:
    # Signature (8), then the first chunk: length (4) = 13, type b"IHDR", width (4), height (4), …
    if len(data) < 33:
        raise ImageFormatError(f"a truncated PNG header ({len(data)} bytes)")
    length, kind, width, height = struct.unpack(">I4sII", data[8:24])
    if kind != b"IHDR" or length != 13:
        raise ImageFormatError("a PNG whose first chunk is not IHDR")
    return ImageHeader("png", width, height)


def _jpeg_header(data: bytes) -> ImageHeader:
    position = 2
    for _ in range(MAX_JPEG_SEGMENTS):
        if position + 1 >= len(data) or data[position] != 0xFF:
            break
        while position + 1 < len(data) and data[position + 1] == 0xFF:  # fill bytes before a marker
            position += 1
        if position + 1 >= len(data):
            break
        marker = data[position + 1]
        if marker in _JPEG_STANDALONE:
            position += 2
            continue
        if marker == _JPEG_SOS:
            raise ImageFormatError("a JPEG whose scan starts before its frame header")
        if position + 4 > len(data):
            break
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if length < 2:
            raise ImageFormatError(f"a JPEG segment of length {length}")
        if marker in _JPEG_SOF:
            # Length (2), sample precision (1), number of lines (2), samples per line (2).
            if position + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return ImageHeader("jpeg", width, height)
        position += 2 + length
    else:
        raise ImageFormatError(f"a JPEG with more than {MAX_JPEG_SEGMENTS} segments before its frame header")
    raise ImageFormatError("a truncated or malformed JPEG header (no frame header found)")
