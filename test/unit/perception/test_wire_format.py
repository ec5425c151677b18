import numpy as np
import pytest

from spatialclaw_ros.protocol.perception import content_key, decode_message, encode_message


def test_round_trip_keeps_meta_arrays_and_dtypes():
    arrays = {"image": np.arange(24, dtype=np.uint8).reshape(2, 4, 3), "K": np.eye(3)}
    meta, out = decode_message(encode_message({"prompt": "chair", "frames": 2}, arrays))
    assert meta == {"prompt": "chair", "frames": 2}
    assert out.keys() == arrays.keys()
    assert all(np.array_equal(out[k], arrays[k]) and out[k].dtype == arrays[k].dtype for k in arrays)


def test_object_arrays_are_never_pickled():
    with pytest.raises(ValueError):
        decode_message(encode_message({}, {"bad": np.array([{"a": 1}], dtype=object)}))


def test_garbage_is_a_value_error():
    with pytest.raises(ValueError, match="npz"):
        decode_message(b"not an archive")


def test_meta_name_is_reserved():
    with pytest.raises(ValueError, match="reserved"):
        encode_message({}, {"__meta__": np.zeros(1)})


def test_encoding_is_deterministic():
    arrays = {"image": np.ones((3, 3, 3), np.uint8)}
    assert encode_message({"a": 1}, arrays) == encode_message({"a": 1}, arrays)


def test_content_key_covers_operation_parameters_values_dtype_and_shape():
    image = np.zeros((2, 6), np.uint8)
    key = content_key("segment", {"prompt": "chair"}, {"image": image})
    assert key == content_key("segment", {"prompt": "chair"}, {"image": image.copy()})
    others = [
        content_key("track", {"prompt": "chair"}, {"image": image}),
        content_key("segment", {"prompt": "door"}, {"image": image}),
        content_key("segment", {"prompt": "chair"}, {"image": image + 1}),
        content_key("segment", {"prompt": "chair"}, {"image": image.view(np.int8)}),
        content_key("segment", {"prompt": "chair"}, {"image": image.reshape(3, 4)}),
    ]
    assert len({key, *others}) == 6
