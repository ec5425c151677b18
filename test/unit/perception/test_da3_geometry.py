import numpy as np

from spatialclaw_ros.perception import View
from spatialclaw_ros.perception._da3 import (
    Da3Reconstructor,
    normalise_images,
    processing_size,
    scale_intrinsics,
)


def test_processing_size_keeps_aspect_in_multiples_of_14():
    assert processing_size(480, 640, 504) == (378, 504)
    assert processing_size(96, 128, 126) == (98, 126)


def test_intrinsics_scale_per_axis():
    K = np.array([[500.0, 0.0, 320.0], [0.0, 400.0, 240.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(
        scale_intrinsics(K, (480, 640), (240, 160)), [[125, 0, 80], [0, 200, 120], [0, 0, 1]]
    )


def test_normalisation_is_imagenet():
    image = np.full((14, 14, 3), 255, dtype=np.uint8)
    out = normalise_images([image], (14, 14))
    np.testing.assert_allclose(
        out[0, :, 0, 0], (1 - np.array([0.485, 0.456, 0.406])) / [0.229, 0.224, 0.225], rtol=1e-5
    )


def _poses(xs):
    poses = np.tile(np.eye(4), (len(xs), 1, 1))
    poses[:, 0, 3] = xs
    return poses


def test_known_poses_give_the_scale_of_the_baselines():
    views = [View(np.zeros((2, 2, 3), np.uint8), T_world_camera=pose) for pose in _poses([0.0, 2.0, 4.0])]
    depth = [np.ones((2, 2), np.float32)] * 3
    scale, source, T = Da3Reconstructor._metric_scale(views, depth, _poses([0.0, 0.5, 1.0]))
    assert (scale, source) == (4.0, "poses")
    np.testing.assert_allclose(T[:, 0, 3], [0.0, 2.0, 4.0])


def test_sensor_depth_scales_translations_too():
    views = [
        View(np.zeros((2, 2, 3), np.uint8), sensor_depth_m=np.full((2, 2), 3.0)),
        View(np.zeros((2, 2, 3), np.uint8)),
    ]
    depth = [np.ones((2, 2), np.float32)] * 2
    scale, source, T = Da3Reconstructor._metric_scale(views, depth, _poses([0.0, 1.0]))
    assert (scale, source) == (3.0, "sensor_depth")
    np.testing.assert_allclose(T[1, 0, 3], 3.0)


def test_without_poses_or_sensor_depth_the_scale_is_unknown():
    views = [View(np.zeros((2, 2, 3), np.uint8))] * 2
    scale, source, _ = Da3Reconstructor._metric_scale(views, [np.ones((2, 2))] * 2, _poses([0.0, 1.0]))
    assert (scale, source) == (1.0, "none")
