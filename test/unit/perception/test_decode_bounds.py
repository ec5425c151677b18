"""decode_message refuses hostile archives from their directory and headers, before allocating arrays."""

import io
import json
import zipfile

import numpy as np
import pytest

from spatialclaw_ros.protocol.perception import (
    MAX_MEMBERS,
    MessageError,
    MessageTooLargeError,
    decode_message,
    encode_message,
)


def npy_header(shape, dtype="<u1"):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": dtype, "fortran_order": False, "shape": tuple(shape)}
    )
    return buffer.getvalue()


def archive(members, compression=zipfile.ZIP_STORED, meta=b"{}"):
    """An npz of raw ``{name: bytes}`` members plus a ``__meta__`` of ``meta`` bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as out:
        for name, data in {**members, "__meta__": npy_header((len(meta),)) + meta}.items():
            out.writestr(f"{name}.npy", data)
    return buffer.getvalue()


def test_a_deflated_bomb_is_refused_from_its_directory():
    zeros = np.zeros(64 * 1024 * 1024, np.uint8).tobytes()
    bomb = archive({"image": npy_header((len(zeros),)) + zeros}, zipfile.ZIP_DEFLATED)
    assert len(bomb) < 1024 * 1024
    with pytest.raises(MessageError, match="compressed"):
        decode_message(bomb)


def test_np_savez_compressed_is_refused():
    buffer = io.BytesIO()
    np.savez_compressed(buffer, image=np.ones(10, np.uint8), __meta__=np.frombuffer(b"{}", np.uint8))
    with pytest.raises(MessageError, match="compressed"):
        decode_message(buffer.getvalue())


def test_a_huge_shape_over_tiny_data_is_refused():
    with pytest.raises(MessageError, match="declares"):
        decode_message(archive({"image": npy_header((10**12,)) + b"tiny"}))


@pytest.mark.parametrize("dtype", ["|O", "<U4", "|S4", "<M8[s]", [("a", "<i4")], "|V8"])
def test_only_plain_numeric_and_bool_dtypes_pass(dtype):
    header = io.BytesIO()
    descr = np.lib.format.dtype_to_descr(np.dtype(dtype))
    np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False, "shape": (1,)})
    data = header.getvalue() + b"\0" * np.dtype(dtype).itemsize
    with pytest.raises(MessageError, match="dtype"):
        decode_message(archive({"bad": data}))


def test_arrays_over_max_bytes_are_too_large():
    message = encode_message({}, {"a": np.zeros(600, np.uint8), "b": np.zeros(600, np.uint8)})
    assert decode_message(message, max_bytes=1300)[1]["b"].size == 600
    with pytest.raises(MessageTooLargeError):
        decode_message(message, max_bytes=1000)


def test_deep_json_is_refused_before_parsing():
    deep = b"[" * 30000 + b"]" * 30000
    with pytest.raises(MessageError, match="nested deeper"):
        decode_message(archive({}, meta=b'{"a": ' + deep + b"}"))


def test_brackets_inside_strings_do_not_count_as_nesting():
    meta = json.dumps({"prompt": "[[[{{{" * 100 + '\\"]]]'}).encode()
    assert decode_message(archive({}, meta=meta))[0]["prompt"].startswith("[[[{{{")


def test_metadata_over_64_kib_is_too_large():
    with pytest.raises(MessageTooLargeError):
        decode_message(archive({}, meta=json.dumps({"a": "x" * 70000}).encode()))


def test_too_many_members_are_refused_from_the_end_record():
    members = {f"m{i}": npy_header((0,)) for i in range(MAX_MEMBERS + 1)}
    with pytest.raises(MessageTooLargeError, match="members"):
        decode_message(archive(members))


def test_fortran_ordered_arrays_round_trip():
    array = np.asfortranarray(np.arange(12, dtype=np.int16).reshape(3, 4))
    _, arrays = decode_message(encode_message({}, {"a": array}))
    assert np.array_equal(arrays["a"], array) and arrays["a"].flags.writeable


def test_an_archive_comment_or_trailing_bytes_are_refused():
    with pytest.raises(MessageError, match="end record"):
        decode_message(encode_message({}, {}) + b"junk")


def test_a_bytearray_is_decoded_in_place_and_bytes_are_copied():
    image = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    depth = np.asfortranarray(np.linspace(0.5, 4.0, 20, dtype=np.float32).reshape(4, 5))
    body = bytearray(encode_message({"prompt": "cup"}, {"image": image, "depth": depth}))
    meta, arrays = decode_message(body)
    assert meta == {"prompt": "cup"}
    np.testing.assert_array_equal(arrays["image"], image)
    np.testing.assert_array_equal(arrays["depth"], depth)
    assert np.shares_memory(arrays["image"], np.frombuffer(body, np.uint8))
    assert arrays["image"].flags.writeable
    _, copied = decode_message(bytes(body))
    assert not np.shares_memory(copied["image"], np.frombuffer(body, np.uint8))
    assert copied["image"].flags.writeable
