import math

import numpy as np
import pytest

from spatialclaw_ros.sim import Box, CircularPath, Cylinder, LinearPath, SceneObject, heading_rad, render


def test_a_linear_path_goes_back_and_forth_at_constant_speed():
    path = LinearPath(start_xy=(0.0, 0.0), end_xy=(4.0, 0.0), speed_mps=2.0)
    assert path.position_xy(1.0) == pytest.approx((2.0, 0.0))
    assert path.velocity_xy(1.0) == pytest.approx((2.0, 0.0))
    assert path.position_xy(3.0) == pytest.approx((2.0, 0.0))
    assert path.velocity_xy(3.0) == pytest.approx((-2.0, 0.0))
    assert path.position_xy(4.0 + 0.5) == pytest.approx((1.0, 0.0))
    assert path.turn_times_s(0.0, 9.0) == pytest.approx((2.0, 4.0, 6.0, 8.0))


def test_a_linear_path_starts_offset_along_its_round_trip():
    path = LinearPath(start_xy=(0.0, 0.0), end_xy=(0.0, 3.0), speed_mps=1.0, offset_m=4.0)
    assert path.position_xy(0.0) == pytest.approx((0.0, 2.0))
    assert heading_rad(path.velocity_xy(0.0)) == pytest.approx(-math.pi / 2)
    assert path.turn_times_s(0.0, 5.0) == pytest.approx((2.0, 5.0))


def test_a_circular_path_turns_counter_clockwise_for_positive_speed():
    path = CircularPath(centre_xy=(1.0, 1.0), radius_m=2.0, speed_mps=math.pi, phase_rad=0.0)
    assert path.period_s == pytest.approx(4.0)
    assert path.position_xy(1.0) == pytest.approx((1.0, 3.0))
    assert heading_rad(path.velocity_xy(1.0)) == pytest.approx(math.pi)
    assert math.hypot(*path.velocity_xy(2.7)) == pytest.approx(math.pi)


def test_a_moving_object_truth_follows_its_path():
    path = LinearPath(start_xy=(1.0, -2.0), end_xy=(1.0, 2.0), speed_mps=0.8)
    person = SceneObject(20, "person", "red", Cylinder(0.25, 1.7), centre_m=(1.0, -2.0, 0.85), path=path)
    truth = person.truth(2.0)
    assert truth.centre_m == pytest.approx((1.0, -0.4, 0.85))
    assert truth.speed_mps == pytest.approx(0.8)
    assert truth.heading_rad == pytest.approx(math.pi / 2)
    assert truth.moving


def test_a_moving_box_faces_its_direction_of_travel():
    path = LinearPath(start_xy=(0.0, 0.0), end_xy=(3.0, 3.0), speed_mps=1.0)
    robot = SceneObject(21, "robot", "gray", Box((0.6, 0.4, 0.4)), centre_m=(0.0, 0.0, 0.2), path=path)
    assert robot.yaw_at(1.0) == pytest.approx(math.pi / 4)
    assert robot.yaw_at(5.0) == pytest.approx(-3 * math.pi / 4)


def test_the_rendered_mover_appears_where_its_path_puts_it(make_scene):
    path = LinearPath(start_xy=(4.0, -1.0), end_xy=(4.0, 1.0), speed_mps=0.5)
    person = SceneObject(20, "person", "red", Cylinder(0.25, 1.7), centre_m=(4.0, -1.0, 10.0), path=path)
    scene = make_scene([person])
    for t_s in (0.5, 2.0, 3.5):
        view = render(scene, "front", t_s=t_s)
        columns = np.flatnonzero(view.labels[60] == 20)
        centre_optical = scene.camera("front").world_to_optical(person.centre_at(t_s), t_s)
        u_centre = view.K[0, 2] + view.K[0, 0] * centre_optical[0] / centre_optical[2]
        assert abs(0.5 * (columns.min() + columns.max()) - u_centre) <= 1.0
