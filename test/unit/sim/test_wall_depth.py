import numpy as np
import pytest

from spatialclaw_ros.sim import EAST_WALL_ID, SimCamera, render


@pytest.fixture
def near_wall(make_scene, east_camera):
    """The east wall (x = 10) seen from 2 m: it fills the whole image."""
    camera = SimCamera("front", east_camera.width, east_camera.height, east_camera.hfov_rad, (8.0, 0.0, 10.0))
    return make_scene(cameras=[camera])


def test_a_wall_2_m_ahead_has_depth_2_everywhere(near_wall):
    view = render(near_wall, "front")
    assert np.all(view.labels == EAST_WALL_ID)
    np.testing.assert_allclose(view.depth_m, 2.0, rtol=0.0, atol=1e-6)


def test_depth_is_along_the_optical_axis_not_the_ray_length(near_wall):
    view = render(near_wall, "front")
    K_inv = np.linalg.inv(view.K)
    corner_ray = K_inv @ np.array([0.0, 0.0, 1.0])
    ray_length_m = 2.0 * np.linalg.norm(corner_ray)
    assert ray_length_m > 2.3
    assert view.depth_m[0, 0] == view.depth_m[60, 80] == np.float32(2.0)


def test_the_wall_faces_the_camera_head_on_at_the_principal_point(near_wall):
    view = render(near_wall, "front")
    assert view.incidence_cos[60, 80] == 1.0
    assert view.incidence_cos[0, 0] < 1.0
