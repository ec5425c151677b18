import base64

import cv2
import numpy as np
import pytest

from spatialclaw_ros.runtime import show as show_module
from spatialclaw_ros.runtime._images import ImageError, encode_png, png_size, to_png


def _decode(png: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)


def test_png_round_trip_is_exact():
    rgb = np.random.default_rng(0).integers(0, 256, (17, 23, 3), dtype=np.uint8)
    assert np.array_equal(_decode(encode_png(rgb))[:, :, ::-1], rgb)
    grey = rgb[:, :, 0]
    assert np.array_equal(_decode(encode_png(grey)), grey)


def test_large_images_are_downscaled_never_upscaled():
    png, width, height = to_png(np.zeros((3000, 2000, 3), np.uint8), 1024)
    assert (width, height) == png_size(png) and max(width, height) <= 1024
    assert to_png(np.zeros((10, 20), np.uint8), 1024)[1:] == (20, 10)


def test_depth_and_masks_are_scaled_to_grey():
    depth = np.array([[1.0, np.nan], [3.0, 2.0]], np.float32)
    assert _decode(to_png(depth)[0]).tolist() == [[0, 0], [255, 128]]
    assert _decode(to_png(np.array([[True, False]]))[0]).tolist() == [[255, 0]]


def test_figures_render():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(4, 3), dpi=100)
    figure.gca().plot([0, 1], [0, 1])
    png, width, height = to_png(figure, 200)
    plt.close(figure)
    assert max(width, height) <= 200 and png.startswith(b"\x89PNG")


def test_unshowable_things_raise():
    with pytest.raises(ImageError, match="cannot show a dict"):
        to_png({"a": 1})


def test_show_publishes_labelled_displays_within_the_step_budget(capsys):
    published = []
    show_module.configure(lambda data, metadata: published.append((data, metadata)), 2, 1024)
    show_module.new_step()
    show_module.show(np.zeros((4, 4, 3), np.uint8), np.ones((4, 4)), np.ones((2, 2)), label="mask")
    assert [meta["spatialclaw"]["label"] for _, meta in published] == ["mask [1/3]", "mask [2/3]"]
    assert base64.b64decode(published[0][0]["image/png"]).startswith(b"\x89PNG")
    assert "dropped 'mask [3/3]'" in capsys.readouterr().err


def test_show_refuses_an_image_over_the_host_limits_with_a_clear_error():
    published = []
    show_module.configure(lambda data, metadata: published.append(data), 4, 2048)
    noise = np.random.default_rng(3).integers(0, 256, (2048, 2048, 3), dtype=np.uint8)  # a 12 MiB PNG
    with pytest.raises(ImageError, match=r"cannot show a 2048×2048 px image: an image of \d+ bytes is over"):
        show_module.show(noise)
    assert published == []


def test_png_size_refuses_other_formats():
    _, jpeg = cv2.imencode(".jpg", np.zeros((4, 4), np.uint8))
    with pytest.raises(ImageError, match="not a PNG file but jpeg"):
        png_size(jpeg.tobytes())
