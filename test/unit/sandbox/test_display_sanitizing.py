import base64

from spatialclaw_ros.sandbox._results import sanitize_display

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()


def test_valid_png_is_kept():
    display, size, note = sanitize_display({"data": {"image/png": PNG}, "metadata": {}}, 10_000)
    assert display is not None and display.data["image/png"] == PNG
    assert size == len(PNG) and note is None


def test_forged_png_is_dropped():
    fake = base64.b64encode(b"not an image").decode()
    display, _, note = sanitize_display({"data": {"image/png": fake, "text/plain": "x"}}, 10_000)
    assert display is not None and "image/png" not in display.data
    assert "invalid image/png" in note


def test_non_string_values_become_json():
    display, _, _ = sanitize_display({"data": {"application/json": {"a": [1, 2]}}}, 10_000)
    assert display.data["application/json"] == '{"a": [1, 2]}'


def test_over_budget_display_is_dropped():
    display, size, note = sanitize_display({"data": {"text/plain": "x" * 100}}, 50)
    assert display is None and size == 0 and "size limit" in note


def test_garbage_content_is_dropped():
    assert sanitize_display(["not", "a", "mapping"], 100)[0] is None
    assert sanitize_display({"data": {7: "x"}}, 100)[0] is None
