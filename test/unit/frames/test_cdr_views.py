import numpy as np
import pytest

from spatialclaw_ros.frames import (
    FrameDecodeError,
    decode_color,
    numpy_to_image,
    parse_compressed_image,
    parse_image,
)

RGB = np.arange(3 * 4 * 3, dtype=np.uint8).reshape(3, 4, 3)


@pytest.mark.parametrize("little_endian", [True, False])
def test_image_view_reads_every_field(msgs, little_endian):
    message = msgs.image(numpy_to_image(RGB, "rgb8", row_padding=1), 12_000_000_345, "front_optical")
    view = parse_image(msgs.cdr_image(message, little_endian), "front")
    assert (view.header.stamp.sec, view.header.stamp.nanosec) == (12, 345)
    assert view.header.frame_id == "front_optical"
    assert (view.height, view.width, view.encoding, view.step) == (3, 4, "rgb8", 13)
    assert np.array_equal(decode_color(view, "front"), RGB)


def test_image_view_does_not_copy_pixels(msgs):
    payload = msgs.cdr_image(msgs.image(numpy_to_image(RGB, "rgb8")))
    view = parse_image(payload, "front")
    assert view.data.obj is payload


def test_compressed_view(msgs):
    message = msgs.CompressedImage(msgs.header(5, "f"), "rgb8; jpeg compressed bgr8", b"\xff\xd8abc")
    view = parse_compressed_image(msgs.cdr_compressed(message), "front")
    assert view.format == "rgb8; jpeg compressed bgr8" and bytes(view.data) == b"\xff\xd8abc"


def test_truncated_message_is_a_typed_error(msgs):
    payload = msgs.cdr_image(msgs.image(numpy_to_image(RGB, "rgb8")))
    with pytest.raises(FrameDecodeError) as caught:
        parse_image(payload[:-5], "front")
    assert caught.value.field == "data"


@pytest.mark.parametrize("prefix", [b"\x00\x03\x00\x00", b"\x01\x01\x00\x00", b"\x00"])
def test_unknown_encapsulation_is_a_typed_error(msgs, prefix):
    payload = msgs.cdr_image(msgs.image(numpy_to_image(RGB, "rgb8")))
    with pytest.raises(FrameDecodeError) as caught:
        parse_image(prefix + payload[4:] if len(prefix) == 4 else prefix, "front")
    assert caught.value.field == "serialization"
