import numpy as np

from spatialclaw_ros import geometry as geo


def test_point_at_known_depth_projects_to_known_pixel(K):
    # x = 0.4 m right, y = 0.3 m down at z = 2 m: u = 500*0.2 + 320, v = 400*0.15 + 240.
    assert geo.project([0.4, 0.3, 2.0], K).tolist() == [420.0, 300.0]


def test_pixel_backprojects_to_the_same_point(K):
    depth = np.full((480, 640), np.nan)
    depth[300, 420] = 2.0
    np.testing.assert_allclose(geo.backproject(depth, K), [[0.4, 0.3, 2.0]])


def test_principal_point_is_the_optical_axis(K):
    assert geo.project([0.0, 0.0, 5.0], K).tolist() == [320.0, 240.0]


def test_points_behind_the_camera_project_to_nan(K):
    pixels = geo.project([[0.0, 0.0, -1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]], K)
    assert np.isnan(pixels[:2]).all()
    assert pixels[2].tolist() == [320.0, 240.0]


def test_full_image_roundtrip(K, rng):
    depth = rng.uniform(0.5, 8.0, size=(48, 64))
    cam = geo.PinholeCamera(K, 64, 48)
    points = cam.backproject(depth)
    rows, cols = np.divmod(np.arange(48 * 64), 64)
    np.testing.assert_allclose(cam.project(points), np.stack([cols, rows], axis=1), atol=1e-9)


def test_skewed_intrinsics_roundtrip(rng):
    K_skew = np.array([[500.0, 3.0, 320.0], [0.0, 400.0, 240.0], [0.0, 0.0, 1.0]])
    depth = rng.uniform(1.0, 3.0, size=(10, 12))
    points = geo.backproject(depth, K_skew)
    rows, cols = np.divmod(np.arange(120), 12)
    np.testing.assert_allclose(geo.project(points, K_skew), np.stack([cols, rows], axis=1), atol=1e-9)
