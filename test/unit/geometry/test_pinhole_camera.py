import numpy as np
import pytest

from spatialclaw_ros import geometry as geo


def test_from_camera_info_reads_row_major_k():
    cam = geo.PinholeCamera.from_camera_info([525.0, 0, 319.5, 0, 520.0, 239.5, 0, 0, 1], 640, 480)
    assert (cam.fx, cam.fy, cam.cx, cam.cy, cam.width, cam.height) == (525.0, 520.0, 319.5, 239.5, 640, 480)


def test_intrinsics_are_frozen(K):
    cam = geo.PinholeCamera(K, 640, 480)
    with pytest.raises(ValueError):
        cam.K[0, 0] = 1.0


def test_resized_keeps_the_image_edges_fixed():
    cam = geo.PinholeCamera(np.array([[500.0, 0, 319.5], [0, 500, 239.5], [0, 0, 1]]), 640, 480)
    half = cam.resized(320, 240)
    # The left edge of the image (u = -0.5) stays at u' = -0.5: the same ray at both resolutions.
    ray = np.array([(-0.5 - cam.cx) / cam.fx, 0.0, 1.0])
    assert half.project(ray)[0] == pytest.approx(-0.5)


def test_in_image_uses_half_pixel_edges(K):
    cam = geo.PinholeCamera(K, 640, 480)
    inside = cam.in_image([[-0.5, -0.5], [639.49, 479.49], [-0.51, 0.0], [0.0, 479.5], [np.nan, 0.0]])
    assert inside.tolist() == [True, True, False, False, False]


def test_backproject_checks_the_depth_size(K):
    with pytest.raises(ValueError, match="depth_m"):
        geo.PinholeCamera(K, 640, 480).backproject(np.ones((480, 641)))
