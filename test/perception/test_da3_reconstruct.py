import numpy as np
import pytest

from spatialclaw_ros.geometry import make_transform, rotation_about_axis
from spatialclaw_ros.perception import PerceptionUnavailableError, Reconstructor, View
from spatialclaw_ros.perception._da3 import Da3Reconstructor

K = np.array([[100.0, 0.0, 64.0], [0.0, 100.0, 48.0], [0.0, 0.0, 1.0]])


@pytest.fixture(scope="module")
def reconstructor(da3_small_dir, da3_res_px):
    return Da3Reconstructor(str(da3_small_dir), "cpu", da3_res_px)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (96, 128, 3), dtype=np.uint8) for _ in range(3)]


def test_unknown_poses_give_relative_result_in_first_camera(reconstructor, images):
    assert isinstance(reconstructor, Reconstructor)
    result = reconstructor.reconstruct([View(image) for image in images])
    assert (result.metric, result.scale_source) == (False, "none")
    np.testing.assert_allclose(result.T_world_camera[0], np.eye(4), atol=1e-6)
    assert result.K.shape == (3, 3, 3) and result.T_world_camera.shape == (3, 4, 4)
    assert all(d.shape == (96, 128) for d in result.depth_m)
    assert all(c.shape == (96, 128) for c in result.confidence)


def test_known_poses_fix_scale_and_world(reconstructor, images):
    poses = [
        make_transform(rotation_about_axis([0, 1, 0], 0.1 * i), [0.5 * i, 0.0, 0.2 * i]) for i in range(3)
    ]
    relative = reconstructor.reconstruct([View(image) for image in images])
    posed = [View(image, K, pose) for image, pose in zip(images, poses, strict=True)]
    result = reconstructor.reconstruct(posed)
    assert (result.metric, result.scale_source) == (True, "poses")
    np.testing.assert_allclose(result.T_world_camera, np.stack(poses))
    np.testing.assert_allclose(result.K, np.stack([K] * 3))
    centres = relative.T_world_camera[:, :3, 3]
    spread = np.sqrt(((centres - centres.mean(0)) ** 2).sum(1).mean())
    known = np.stack(poses)[:, :3, 3]
    scale = np.sqrt(((known - known.mean(0)) ** 2).sum(1).mean()) / spread
    np.testing.assert_allclose(result.depth_m[1], relative.depth_m[1] * scale, rtol=1e-4)


def test_sensor_depth_fixes_scale(reconstructor, images):
    relative = reconstructor.reconstruct([View(image) for image in images])
    sensor = 3.0 * relative.depth_m[0]
    result = reconstructor.reconstruct(
        [View(images[0], sensor_depth_m=sensor), View(images[1]), View(images[2])]
    )
    assert (result.metric, result.scale_source) == (True, "sensor_depth")
    np.testing.assert_allclose(result.depth_m[0], sensor, rtol=1e-4)


def test_preset_without_camera_head_is_refused(da3_metric_dir, da3_metric_overrides, da3_res_px):
    with pytest.raises(PerceptionUnavailableError, match="camera poses"):
        Da3Reconstructor(str(da3_metric_dir), "cpu", da3_res_px, da3_metric_overrides)
