import struct

import cv2
import numpy as np

from spatialclaw_ros.frames import (
    decode_compressed_color,
    decode_compressed_depth,
    depth_to_compressed,
    rgb_to_compressed,
)

RGB = np.random.default_rng(3).integers(0, 256, (12, 16, 3), dtype=np.uint8)


def test_png_is_lossless(msgs):
    assert np.array_equal(decode_compressed_color(msgs.compressed(rgb_to_compressed(RGB, "png")), "cam"), RGB)


def test_jpeg_decodes_close_to_the_source(msgs):
    smooth = np.broadcast_to(np.linspace(0, 255, 16, dtype=np.uint8)[None, :, None], (12, 16, 3)).copy()
    smooth[..., 2] = 40
    decoded = decode_compressed_color(msgs.compressed(rgb_to_compressed(smooth, "jpeg", 95)), "cam")
    assert decoded.shape == (12, 16, 3) and np.abs(decoded.astype(int) - smooth).mean() < 3


def test_plain_format_string_and_grey_png(msgs):
    gray = RGB[..., 0]
    ok, encoded = cv2.imencode(".png", gray)
    assert ok
    rgb = decode_compressed_color(msgs.CompressedImage(msgs.header(0, "f"), "png", encoded.tobytes()), "cam")
    assert np.array_equal(rgb, np.repeat(gray[..., None], 3, axis=2))


def test_compressed_depth_16uc1_is_exact(msgs):
    depth_m = np.round(np.random.default_rng(1).uniform(0.3, 9.0, (12, 16)), 3).astype(np.float32)
    depth_m[0, 0] = np.nan
    decoded = decode_compressed_depth(msgs.compressed(depth_to_compressed(depth_m, "16UC1")), "cam")
    np.testing.assert_allclose(decoded, depth_m, rtol=1e-6)


def test_compressed_depth_32fc1_inverse_depth_quantisation(msgs):
    depth_m = np.random.default_rng(2).uniform(0.3, 9.5, (12, 16)).astype(np.float32)
    depth_m[1, 1] = np.nan
    depth_m[2, 2] = 12.0
    decoded = decode_compressed_depth(msgs.compressed(depth_to_compressed(depth_m, "32FC1")), "cam")
    valid = np.isfinite(depth_m) & (depth_m < 10)
    assert np.isnan(decoded[1, 1]) and np.isnan(decoded[2, 2])
    # Inverse-depth quantisation: the error grows with depth squared, A = 10100 steps per 1/m.
    np.testing.assert_allclose(
        decoded[valid], depth_m[valid], atol=0, rtol=np.max(depth_m[valid]) / 10100 * 0.6
    )


def test_compressed_depth_reference_header_values(msgs):
    pixels = np.array([[0, 19191]], dtype=np.uint16)
    ok, png = cv2.imencode(".png", pixels)
    assert ok
    data = struct.pack("<iff", 0, 10100.0, -1009.0) + png.tobytes()
    message = msgs.CompressedImage(msgs.header(0, "f"), "32FC1; compressedDepth png", data)
    decoded = decode_compressed_depth(message, "cam")
    assert np.isnan(decoded[0, 0]) and abs(decoded[0, 1] - 10100.0 / (19191 + 1009)) < 1e-6
