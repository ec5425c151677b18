import math

import numpy as np

from spatialclaw_ros.sim import Cylinder, SceneObject, render

CYLINDER_ID = 11


def test_a_cylinder_silhouette_is_as_wide_as_its_tangent_rays(make_scene):
    radius_m, distance_m = 0.5, 3.0
    cylinder = SceneObject(
        CYLINDER_ID, "bin", "yellow", Cylinder(radius_m, 2.0), centre_m=(distance_m, 0.0, 10.0)
    )
    view = render(make_scene([cylinder]), "front")
    half_width_px = view.K[0, 0] * radius_m / math.sqrt(distance_m**2 - radius_m**2)
    columns = np.flatnonzero(view.labels[60] == CYLINDER_ID)
    assert columns.min() == math.ceil(80 - half_width_px)
    assert columns.max() == math.floor(80 + half_width_px)


def test_the_nearest_point_of_a_cylinder_is_its_distance_less_its_radius(make_scene):
    cylinder = SceneObject(CYLINDER_ID, "bin", "yellow", Cylinder(0.5, 2.0), centre_m=(3.0, 0.0, 10.0))
    view = render(make_scene([cylinder]), "front")
    assert math.isclose(view.depth_m[60, 80], 2.5, abs_tol=1e-6)


def test_a_camera_above_a_cylinder_sees_its_top_cap(make_scene):
    # Top cap at world z = 9: its centre (3, 0, 9) is at optical (0, 1, 3).
    cylinder = SceneObject(CYLINDER_ID, "bin", "yellow", Cylinder(0.5, 2.0), centre_m=(3.0, 0.0, 8.0))
    view = render(make_scene([cylinder]), "front")
    row = round(view.K[1, 2] + view.K[1, 1] * 1.0 / 3.0)
    assert view.labels[row, 80] == CYLINDER_ID
    v_exact = view.K[1, 2] + view.K[1, 1] * 1.0 / 3.0
    # Depth to the cap plane along the pixel's ray: optical y = 1 at depth z, with y / z = (v - cy) / fy.
    assert math.isclose(
        view.depth_m[row, 80], 3.0 * (v_exact - view.K[1, 2]) / (row - view.K[1, 2]), rel_tol=1e-6
    )
