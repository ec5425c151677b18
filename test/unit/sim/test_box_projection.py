import math

import numpy as np

from spatialclaw_ros.sim import Box, SceneObject, render

BOX_ID = 10


def test_a_box_face_on_fills_its_projected_rectangle(make_scene):
    # Front face (x = 3) is 3 m ahead; it spans world y in [-0.2, 0.8] and z in [9.7, 10.3].
    box = SceneObject(BOX_ID, "box", "red", Box((0.4, 1.0, 0.6)), centre_m=(3.2, 0.3, 10.0))
    view = render(make_scene([box]), "front")
    fx, cx, cy = view.K[0, 0], view.K[0, 2], view.K[1, 2]
    # Optical x = -(world y), optical y = -(world z - 10).
    u_lo, u_hi = cx + fx * -0.8 / 3.0, cx + fx * 0.2 / 3.0
    v_lo, v_hi = cy + fx * -0.3 / 3.0, cy + fx * 0.3 / 3.0
    v, u = np.mgrid[0 : view.labels.shape[0], 0 : view.labels.shape[1]]
    expected = (u > u_lo) & (u < u_hi) & (v > v_lo) & (v < v_hi)
    assert expected.sum() > 100
    np.testing.assert_array_equal(view.labels == BOX_ID, expected)
    np.testing.assert_allclose(view.depth_m[expected], 3.0, atol=1e-6)


def test_a_box_turned_45_degrees_shows_its_edge_half_a_diagonal_nearer(make_scene):
    box = SceneObject(
        BOX_ID, "box", "blue", Box((1.0, 1.0, 1.0)), centre_m=(4.0, 0.0, 10.0), yaw_rad=math.pi / 4
    )
    view = render(make_scene([box]), "front")
    assert view.labels[60, 80] == BOX_ID
    assert math.isclose(view.depth_m[60, 80], 4.0 - math.sqrt(0.5), abs_tol=1e-6)


def test_a_box_behind_the_camera_is_not_drawn(make_scene):
    box = SceneObject(BOX_ID, "box", "green", Box((1.0, 1.0, 1.0)), centre_m=(-2.0, 0.0, 10.0))
    assert BOX_ID not in render(make_scene([box]), "front").pixel_counts()
