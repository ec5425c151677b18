"""SceneRenderer keeps the still parts of a view and redraws only what moves: same pixels as render()."""

import numpy as np
import pytest

from spatialclaw_ros.sim import SceneRenderer, generate_scene, render


@pytest.mark.parametrize(("seed", "camera_motion"), [(0, False), (3, False), (11, False), (4, True)])
def test_views_equal_full_renders_at_every_time(seed, camera_motion):
    scene = generate_scene(
        seed=seed, cameras=["front", "left", "right"], width=96, height=72, camera_motion=camera_motion
    )
    assert any(item.moving for item in scene.objects), "the generated scenes have a walking person"
    renderer = SceneRenderer(scene)
    for t_s in (0.0, 0.4, 1.3, 2.2, 0.4):
        for camera in ("front", "left", "right"):
            cached, full = renderer.render(camera, t_s), render(scene, camera, t_s)
            np.testing.assert_array_equal(cached.labels, full.labels)
            np.testing.assert_array_equal(cached.depth_m, full.depth_m)
            np.testing.assert_array_equal(cached.rgb, full.rgb)
            np.testing.assert_array_equal(cached.incidence_cos, full.incidence_cos)
            np.testing.assert_array_equal(cached.T_world_camera, full.T_world_camera)


def test_a_view_does_not_change_the_kept_layer():
    scene = generate_scene(seed=5, cameras=["front"], width=64, height=48)
    renderer = SceneRenderer(scene)
    first = renderer.render("front", 0.0)
    first.rgb[:] = 0
    first.depth_m[:] = 0.0
    assert renderer.render("front", 0.0).rgb.any()
    np.testing.assert_array_equal(renderer.render("front", 0.0).depth_m, render(scene, "front", 0.0).depth_m)
