import struct

import pytest

from spatialclaw_ros.frames import (
    FrameDecodeError,
    decode_color,
    decode_compressed_color,
    decode_compressed_depth,
    decode_depth,
)

GOOD = {"height": 2, "width": 3, "encoding": "rgb8", "is_bigendian": 0, "step": 9, "data": bytes(18)}

RAW_CASES = [
    ({"encoding": "yuv422_yuy2"}, "encoding"),
    ({"encoding": "16UC1", "step": 6, "data": bytes(12)}, "encoding"),
    ({"height": 0, "data": b""}, "height"),
    ({"width": 0, "step": 0, "data": b""}, "width"),
    ({"step": 8, "data": bytes(16)}, "step"),
    ({"data": bytes(17)}, "data"),
    ({"data": bytes(19)}, "data"),
    ({"is_bigendian": 2}, "is_bigendian"),
]


@pytest.mark.parametrize(("change", "field"), RAW_CASES)
def test_bad_colour_image_names_camera_and_field(msgs, change, field):
    message = msgs.Image(msgs.header(0, "f"), **{**GOOD, **change})
    with pytest.raises(FrameDecodeError) as caught:
        decode_color(message, "front")
    assert (caught.value.camera, caught.value.field) == ("front", field)
    assert "front" in str(caught.value) and field in str(caught.value)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"encoding": "rgb8", "step": 9, "data": bytes(18)}, "depth.encoding"),
        ({"encoding": "32FC1", "step": 11, "data": bytes(22)}, "depth.step"),
        ({"encoding": "16UC1", "step": 6, "data": bytes(10)}, "depth.data"),
    ],
)
def test_bad_depth_image_names_the_depth_field(msgs, change, field):
    message = msgs.Image(msgs.header(0, "f"), **{**GOOD, **change})
    with pytest.raises(FrameDecodeError) as caught:
        decode_depth(message, "left")
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("fmt", "data", "field"),
    [
        ("jpeg", b"", "data"),
        ("jpeg", b"\xff\xd8 not really a jpeg", "data"),
        ("16UC1; compressedDepth png", b"\x89PNG", "format"),
    ],
)
def test_bad_compressed_colour(msgs, fmt, data, field):
    with pytest.raises(FrameDecodeError) as caught:
        decode_compressed_color(msgs.CompressedImage(msgs.header(0, "f"), fmt, data), "cam")
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("fmt", "data", "field"),
    [
        ("16UC1; compressedDepth rvl", struct.pack("<iff", 0, 0, 0) + bytes(8), "depth.format"),
        ("8UC1; compressedDepth png", bytes(20), "depth.format"),
        ("16UC1; compressedDepth png", struct.pack("<iff", 0, 0, 0) + b"garbage", "depth.data"),
        (
            "16UC1; compressedDepth png",
            struct.pack("<iff", 0, 0, 0) + b"\x89PNG\r\n\x1a\nbroken",
            "depth.data",
        ),
        ("rgb8; jpeg compressed bgr8", b"\xff\xd8", "depth.format"),
        ("16UC1; compressedDepth", b"", "depth.data"),
    ],
)
def test_bad_compressed_depth(msgs, fmt, data, field):
    with pytest.raises(FrameDecodeError) as caught:
        decode_compressed_depth(msgs.CompressedImage(msgs.header(0, "f"), fmt, data), "cam")
    assert caught.value.field == field


def test_error_survives_pickling():
    import pickle

    error = pickle.loads(pickle.dumps(FrameDecodeError("front", "step", "too small")))
    assert (error.camera, error.field, error.reason) == ("front", "step", "too small")
