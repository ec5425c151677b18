import numpy as np
import pytest

from spatialclaw_ros.frames import FrameDecodeError, decode_labels, numpy_to_image

IDS16 = (np.arange(20, dtype=np.uint16) * 3001).reshape(4, 5)


@pytest.mark.parametrize(
    ("encoding", "ids"),
    [
        ("mono16", IDS16),
        ("16UC1", IDS16),
        ("mono8", (np.arange(20, dtype=np.uint8) * 13).reshape(4, 5)),
        ("32SC1", (np.arange(20, dtype=np.int32) - 10).reshape(4, 5) * 100_000),
    ],
)
def test_label_ids_are_returned_unscaled_in_their_integer_type(msgs, encoding, ids):
    labels = decode_labels(msgs.image(numpy_to_image(ids, encoding)), "cam", (4, 5))
    assert labels.dtype == ids.dtype and np.array_equal(labels, ids)


def test_big_endian_32sc1_and_padded_rows_are_read(msgs):
    ids = (np.arange(20, dtype=np.int32) - 7).reshape(4, 5)
    message = msgs.image(numpy_to_image(ids, "32SC1", bigendian=True, row_padding=3))
    assert np.array_equal(decode_labels(message, "cam"), ids)


@pytest.mark.parametrize(("shape", "field"), [((5, 5), "labels.height"), ((4, 6), "labels.width")])
def test_label_image_of_another_size_than_the_colour_image_is_an_error(msgs, shape, field):
    message = msgs.image(numpy_to_image(IDS16, "mono16"))
    with pytest.raises(FrameDecodeError, match="5×4") as caught:
        decode_labels(message, "front", shape)
    assert (caught.value.camera, caught.value.field) == ("front", field)


@pytest.mark.parametrize("encoding", ["rgb8", "32FC1"])
def test_colour_or_depth_encoding_is_refused_on_the_labels_stream(msgs, encoding):
    pixels = np.zeros((4, 5, 3), np.uint8) if encoding == "rgb8" else np.zeros((4, 5), np.float32)
    with pytest.raises(FrameDecodeError, match="not valid on the labels stream") as caught:
        decode_labels(msgs.image(numpy_to_image(pixels, encoding)), "front")
    assert caught.value.field == "labels.encoding"


def test_short_label_data_names_the_labels_field(msgs):
    message = msgs.image(numpy_to_image(IDS16, "mono16"))
    message.data = message.data[:-2]
    with pytest.raises(FrameDecodeError) as caught:
        decode_labels(message, "front")
    assert caught.value.field == "labels.data"
