from types import SimpleNamespace

import numpy as np
import pytest

from spatialclaw_ros.runtime import tools

K = np.array([[100.0, 0.0, 2.0], [0.0, 100.0, 1.0], [0.0, 0.0, 1.0]])


def frame(depth=None, pose=None):
    return SimpleNamespace(
        index=4, image=np.zeros((3, 5, 3), np.uint8), depth=depth, K=K, T_world_camera=pose
    )


def test_depth_prefers_sensor_without_calling_the_service():
    tools.configure(socket_path="/nonexistent/perception.sock")
    sensor = np.full((3, 5), 2.0, dtype=np.float32)
    result = tools.depth(frame(depth=sensor))
    assert (result.source, result.metric, result.frame_index) == ("sensor", True, 4)
    assert np.array_equal(np.asarray(result), sensor)


def test_masked_points_are_in_world_coordinates():
    pose = np.eye(4)
    pose[:3, 3] = [10.0, 0.0, 0.0]
    mask = np.zeros((3, 5), dtype=bool)
    mask[1, 2] = True
    points = tools.masked_points(frame(depth=np.full((3, 5), 2.0), pose=pose), mask)
    np.testing.assert_allclose(points, [[10.0, 0.0, 2.0]])


def test_mask_of_wrong_shape_is_an_invalid_query():
    with pytest.raises(tools.PerceptionError) as caught:
        tools.masked_points(frame(depth=np.ones((3, 5))), np.ones((2, 2), bool))
    assert caught.value.code == "INVALID_QUERY"


def test_unreachable_service_is_perception_unavailable(tmp_path):
    client = tools.PerceptionClient(socket_path=str(tmp_path / "absent.sock"), reconnect_s=0.0)
    with pytest.raises(tools.PerceptionError) as caught:
        client.health()
    assert caught.value.code == "PERCEPTION_UNAVAILABLE"


def test_bad_image_is_refused_before_any_request():
    with pytest.raises(tools.PerceptionError, match="uint8"):
        tools.segment(np.zeros((4, 4)), "chair")
