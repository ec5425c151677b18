import struct

import numpy as np
import pytest

from spatialclaw_ros.frames import decode_color, decode_depth, image_to_numpy, numpy_to_image

RGB = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)


def test_rgb8_is_returned_as_is(msgs):
    assert np.array_equal(decode_color(msgs.image(numpy_to_image(RGB, "rgb8")), "cam"), RGB)


def test_bgr8_bytes_become_rgb(msgs):
    data = RGB[..., ::-1].tobytes()
    message = msgs.Image(msgs.header(0, "f"), 4, 5, "bgr8", 0, 15, data)
    assert np.array_equal(decode_color(message, "cam"), RGB)


@pytest.mark.parametrize(("encoding", "order"), [("rgba8", [0, 1, 2]), ("bgra8", [2, 1, 0])])
def test_alpha_is_dropped(msgs, encoding, order):
    pixels = np.concatenate([RGB[..., order], np.full((4, 5, 1), 7, np.uint8)], axis=2)
    message = msgs.Image(msgs.header(0, "f"), 4, 5, encoding, 0, 20, pixels.tobytes())
    assert np.array_equal(decode_color(message, "cam"), RGB)


def test_mono8_is_replicated_to_three_channels(msgs):
    gray = RGB[..., 0]
    rgb = decode_color(msgs.Image(msgs.header(0, "f"), 4, 5, "mono8", 0, 5, gray.tobytes()), "cam")
    assert rgb.shape == (4, 5, 3) and all(np.array_equal(rgb[..., c], gray) for c in range(3))


def test_mono16_colour_keeps_the_high_byte(msgs):
    gray16 = (np.arange(20, dtype=np.uint16) * 3000).reshape(4, 5)
    rgb = decode_color(msgs.Image(msgs.header(0, "f"), 4, 5, "mono16", 0, 10, gray16.tobytes()), "cam")
    assert np.array_equal(rgb[..., 1], (gray16 >> 8).astype(np.uint8))


def test_padded_rows_are_skipped(msgs):
    rows = np.concatenate([RGB.reshape(4, 15), np.full((4, 9), 255, np.uint8)], axis=1)
    message = msgs.Image(msgs.header(0, "f"), 4, 5, "rgb8", 0, 24, rows.tobytes())
    assert np.array_equal(decode_color(message, "cam"), RGB)


def test_16uc1_is_millimetres_with_zero_invalid(msgs):
    millimetres = np.array([[0, 1, 1500], [65535, 250, 0]], dtype=np.uint16)
    message = msgs.Image(msgs.header(0, "f"), 2, 3, "16UC1", 0, 6, millimetres.astype("<u2").tobytes())
    depth = decode_depth(message, "cam")
    assert depth.dtype == np.float32
    expected = np.array([[np.nan, 0.001, 1.5], [65.535, 0.25, np.nan]], dtype=np.float32)
    np.testing.assert_allclose(depth, expected, rtol=1e-6)


def test_16uc1_big_endian(msgs):
    data = struct.pack(">4H", 1000, 0, 2500, 7)
    depth = decode_depth(msgs.Image(msgs.header(0, "f"), 2, 2, "16UC1", 1, 4, data), "cam")
    np.testing.assert_allclose(depth, [[1.0, np.nan], [2.5, 0.007]], rtol=1e-6)


def test_32fc1_metres_with_non_finite_invalid(msgs):
    data = struct.pack("<4f", 1.25, float("inf"), float("nan"), -float("inf"))
    depth = decode_depth(msgs.Image(msgs.header(0, "f"), 1, 4, "32FC1", 0, 16, data), "cam")
    np.testing.assert_array_equal(depth, np.array([[1.25, np.nan, np.nan, np.nan]], np.float32))


def test_32fc1_big_endian_with_padding(msgs):
    data = struct.pack(">2f", 0.5, 3.0) + b"\xff" * 4 + struct.pack(">2f", 7.0, 0.125) + b"\xff" * 4
    depth = decode_depth(msgs.Image(msgs.header(0, "f"), 2, 2, "32FC1", 1, 12, data), "cam")
    np.testing.assert_array_equal(depth, np.array([[0.5, 3.0], [7.0, 0.125]], np.float32))


def test_mono16_depth_stream_is_millimetres(msgs):
    data = struct.pack("<2H", 0, 2000)
    depth = decode_depth(msgs.Image(msgs.header(0, "f"), 1, 2, "mono16", 0, 4, data), "cam")
    np.testing.assert_array_equal(depth, np.array([[np.nan, 2.0]], np.float32))


def test_passthrough_is_a_view_of_the_data(msgs):
    message = msgs.image(numpy_to_image(RGB, "rgb8"))
    pixels = image_to_numpy(message, "cam")
    assert np.shares_memory(pixels, np.frombuffer(message.data, np.uint8))


@pytest.mark.parametrize("encoding", ["rgb8", "bgr8", "mono8", "mono16", "16UC1", "32FC1"])
@pytest.mark.parametrize("bigendian", [False, True])
def test_encoder_round_trip_with_padding(msgs, rng, encoding, bigendian):
    channels = 3 if encoding in ("rgb8", "bgr8") else 1
    dtype = {"mono16": np.uint16, "16UC1": np.uint16, "32FC1": np.float32}.get(encoding, np.uint8)
    shape = (3, 4, channels) if channels == 3 else (3, 4)
    pixels = (rng.random(shape) * 200).astype(dtype)
    fields = numpy_to_image(pixels, encoding, bigendian=bigendian, row_padding=5)
    stream = "depth" if encoding in ("16UC1", "32FC1") else "color"
    assert fields.step == 4 * channels * np.dtype(dtype).itemsize + 5
    assert np.array_equal(image_to_numpy(msgs.image(fields), "cam", stream), pixels)
