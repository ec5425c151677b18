from types import SimpleNamespace

import numpy as np
import pytest

from spatialclaw_ros.geometry import make_transform
from spatialclaw_ros.perception import PerceptionServiceProcess, PerceptionSettings
from spatialclaw_ros.runtime import tools

K = np.array([[100.0, 0.0, 64.0], [0.0, 100.0, 48.0], [0.0, 0.0, 1.0]])


@pytest.fixture(scope="module")
def service(
    tmp_path_factory, sam3_dir, da3_small_dir, da3_metric_dir, da3_metric_overrides, da3_res_px, service_env
):
    settings = PerceptionSettings(
        segmenter="sam3",
        sam3_model=str(sam3_dir),
        depth="da3",
        da3_depth_model=str(da3_metric_dir),
        da3_depth_overrides=da3_metric_overrides,
        reconstructor="da3",
        da3_reconstruct_model=str(da3_small_dir),
        da3_process_res_px=da3_res_px,
        device="cpu",
        min_score=0.0,
    )
    log = tmp_path_factory.mktemp("models") / "service.log"
    with PerceptionServiceProcess(
        settings, tmp_path_factory.mktemp("s") / "p.sock", env=service_env, log_path=log
    ) as process:
        tools.configure(socket_path=process.socket_path)
        yield process


def frame(index, depth=None, pose=None):
    image = np.random.default_rng(index).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    return SimpleNamespace(index=index, image=image, depth=depth, K=K, T_world_camera=pose, labels=None)


def test_all_backends_load(service):
    states = {name: slot["state"] for name, slot in service.wait_loaded(120)["backends"].items()}
    assert states == {"segmenter": "ready", "depth": "ready", "reconstructor": "ready"}


def test_segment_returns_masks_on_the_frame_grid(service):
    result = tools.segment(frame(0), "chair")
    assert result.backend == "sam3" and result.masks.shape[1:] == (96, 128)
    assert len(result) == len(result.scores) == len(result.boxes)


def test_track_links_identical_frames(service):
    result = tools.track([frame(0), frame(0)], "chair")
    assert result.masks.shape[1:] == (2, 96, 128)
    assert np.array_equal(result.present[:, 0], result.present[:, 1])


def test_depth_uses_the_model_without_sensor_depth(service):
    result = tools.depth(frame(0))
    assert (result.source, result.metric, result.depth_m.shape) == ("da3", True, (96, 128))


def test_depth_prefers_sensor_depth(service):
    sensor = np.full((96, 128), 2.0, dtype=np.float32)
    result = tools.depth(frame(0, depth=sensor))
    assert result.source == "sensor" and np.array_equal(result.depth_m, sensor)


def test_reconstruct_in_world_frame_from_known_poses(service):
    poses = [make_transform(np.eye(3), [0.3 * i, 0.0, 0.0]) for i in range(3)]
    result = tools.reconstruct([frame(i, pose=p) for i, p in enumerate(poses)])
    assert result.metric and result.scale_source == "poses"
    np.testing.assert_allclose(result.T_world_camera, np.stack(poses))
    points = result.points(1)
    assert points.shape[1] == 3 and np.isfinite(points).all()


def test_masked_points_in_world(service):
    mask = np.zeros((96, 128), dtype=bool)
    mask[40:50, 60:70] = True
    points = tools.masked_points(frame(0, pose=make_transform(np.eye(3), [1.0, 0.0, 0.0])), mask)
    assert points.shape == (100, 3)
