"""PNG and JPEG sizes read from their headers; every other format, and truncated headers, refused."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from spatialclaw_ros.protocol.images import (
    MAX_IMAGE_BYTES,
    ImageFormatError,
    ImageHeader,
    ImageTooLargeError,
    check_image,
    read_header,
)


def _pil(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _cv2(ext: str, pixels: np.ndarray, params: tuple[int, ...] = ()) -> bytes:
    ok, buffer = cv2.imencode(ext, pixels, list(params))
    assert ok
    return buffer.tobytes()


RGB = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    "data",
    [
        _cv2(".png", RGB),
        _cv2(".png", RGB[:, :, 0]),
        _cv2(".png", RGB.astype(np.uint16) * 257),
        _pil(Image.fromarray(RGB).convert("RGBA"), "PNG"),
        _pil(Image.fromarray(RGB).convert("P"), "PNG"),
    ],
    ids=["cv2-rgb", "cv2-grey", "cv2-16bit", "pil-rgba", "pil-palette"],
)
def test_png_size_comes_from_ihdr(data):
    assert read_header(data) == ImageHeader("png", 40, 30)


@pytest.mark.parametrize(
    ("data", "sof"),
    [
        (_cv2(".jpg", RGB), 0xC0),
        (_pil(Image.fromarray(RGB), "JPEG"), 0xC0),
        (_pil(Image.fromarray(RGB[:, :, 0]), "JPEG", qtables=[[300] * 64]), 0xC1),
        (_cv2(".jpg", RGB, (cv2.IMWRITE_JPEG_PROGRESSIVE, 1)), 0xC2),
        (_pil(Image.fromarray(RGB), "JPEG", progressive=True), 0xC2),
    ],
    ids=["cv2-baseline", "pil-baseline", "pil-extended-sequential", "cv2-progressive", "pil-progressive"],
)
def test_jpeg_size_comes_from_its_frame_header(data, sof):
    assert bytes([0xFF, sof]) in data
    assert read_header(data) == ImageHeader("jpeg", 40, 30)


def _with_exif_and_icc() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = "x" * 5000  # ImageDescription: a long APP1 segment before the frame header
    return _pil(Image.fromarray(RGB), "JPEG", exif=exif.tobytes(), icc_profile=b"\0" * 70000)


def test_jpeg_segments_before_the_frame_header_are_skipped():
    data = _with_exif_and_icc()
    assert data.index(b"\xff\xc0") > 70000
    assert read_header(data) == ImageHeader("jpeg", 40, 30)


@pytest.mark.parametrize("sof", [0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF])
def test_every_sof_marker_gives_the_size(sof):
    baseline = _pil(Image.fromarray(RGB), "JPEG")
    data = baseline.replace(b"\xff\xc0", bytes([0xFF, sof]), 1)
    assert read_header(data) == ImageHeader("jpeg", 40, 30)


def test_fill_bytes_before_a_marker_are_skipped():
    baseline = _pil(Image.fromarray(RGB), "JPEG")
    data = baseline.replace(b"\xff\xc0", b"\xff\xff\xff\xc0", 1)
    assert read_header(data) == ImageHeader("jpeg", 40, 30)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (_pil(Image.fromarray(RGB), "TIFF"), "TIFF"),
        (_pil(Image.fromarray(RGB), "WEBP"), "WebP"),
        (_cv2(".bmp", RGB), "BMP"),
        (_cv2(".pgm", RGB[:, :, 0]), "PGM"),
        (_cv2(".ppm", RGB), "PPM"),
        (_cv2(".hdr", RGB.astype(np.float32)), "Radiance HDR"),
        (_pil(Image.fromarray(RGB), "JPEG2000"), "JPEG 2000"),
        (_pil(Image.fromarray(RGB), "GIF"), "GIF"),
        (b"", "nothing"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_other_formats_are_refused(data, name):
    with pytest.raises(ImageFormatError, match="only PNG and JPEG"):
        read_header(data)


@pytest.mark.parametrize(
    "data",
    [
        _cv2(".png", RGB)[:20],
        _cv2(".png", RGB).replace(b"IHDR", b"IHDX", 1),
        _cv2(".jpg", RGB)[:100],
        _cv2(".jpg", RGB)[:2],
        _pil(Image.fromarray(RGB), "JPEG").replace(b"\xff\xc0", b"\xff\xda", 1),
        _pil(Image.fromarray(RGB), "JPEG").replace(b"\xff\xdb\x00\x43", b"\xff\xdb\x00\x01", 1),
    ],
    ids=[
        "png-cut",
        "png-no-ihdr",
        "jpeg-cut-before-sof",
        "jpeg-only-soi",
        "jpeg-scan-first",
        "jpeg-bad-length",
    ],
)
def test_truncated_or_malformed_headers_are_refused(data):
    with pytest.raises(ImageFormatError):
        read_header(data)


def test_a_zero_height_jpeg_is_refused():
    data = bytearray(_pil(Image.fromarray(RGB), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 7] = b"\0\0"  # height defined later by a DNL marker
    with pytest.raises(ImageFormatError, match="size of 40×0"):
        read_header(bytes(data))


def test_a_decompression_bomb_png_is_refused_from_its_header():
    bomb = _pil(Image.new("1", (9000, 9000)), "PNG")
    assert len(bomb) < 100_000
    with pytest.raises(ImageTooLargeError, match="9000×9000 px png image is over the limit"):
        check_image(bomb)


def test_a_jpeg_over_the_pixel_limit_is_refused_from_its_header():
    data = bytearray(_pil(Image.fromarray(RGB), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = (60000).to_bytes(2, "big") * 2
    with pytest.raises(ImageTooLargeError, match="60000×60000 px jpeg"):
        check_image(bytes(data))


def test_an_image_over_the_byte_limit_is_refused():
    data = _cv2(".png", RGB) + b"\0" * MAX_IMAGE_BYTES
    with pytest.raises(ImageTooLargeError, match="bytes is over the limit"):
        check_image(data)


def test_an_image_within_the_limits_passes():
    assert check_image(_cv2(".png", RGB)).pixels == 1200
