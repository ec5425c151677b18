import math

import numpy as np
import pytest

from spatialclaw_ros.sim import CameraMotion, SimCamera


def test_intrinsics_follow_the_horizontal_field_of_view():
    camera = SimCamera("front", 640, 480, math.radians(90.0), (0.0, 0.0, 1.0))
    np.testing.assert_allclose(camera.K, [[320.0, 0.0, 319.5], [0.0, 320.0, 239.5], [0.0, 0.0, 1.0]])
    assert camera.vfov_rad == pytest.approx(2.0 * math.atan(240.0 / 320.0))


def test_a_level_camera_looking_east_has_rep103_optical_axes():
    T = SimCamera("front", 64, 48, 1.0, (1.0, 2.0, 3.0)).T_world_camera(0.0)
    # Optical x (right) = world -y, y (down) = world -z, z (forward) = world +x.
    np.testing.assert_allclose(T[:3, :3], [[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]], atol=1e-12)
    np.testing.assert_allclose(T[:3, 3], [1.0, 2.0, 3.0])


def test_looking_at_puts_the_target_on_the_optical_axis():
    camera = SimCamera.looking_at("front", (-2.0, -1.0, 1.5), (1.0, 3.0, 0.2), width=64, height=48)
    optical = camera.world_to_optical((1.0, 3.0, 0.2))
    np.testing.assert_allclose(optical[:2], 0.0, atol=1e-12)
    assert optical[2] == pytest.approx(math.dist((-2.0, -1.0, 1.5), (1.0, 3.0, 0.2)))
    assert camera.pitch_rad > 0.0


def test_a_swaying_camera_returns_to_its_rest_pose_every_period():
    motion = CameraMotion(offset_m=(0.3, 0.0, 0.0), yaw_rad=0.2, period_s=8.0)
    camera = SimCamera("front", 64, 48, 1.0, (0.0, 0.0, 1.0), motion=motion)
    np.testing.assert_allclose(camera.T_world_camera(8.0), camera.T_world_camera(0.0), atol=1e-12)
    np.testing.assert_allclose(camera.T_world_camera(2.0)[:3, 3], [0.3, 0.0, 1.0])
    assert camera.pose_at(2.0)[1] == pytest.approx(0.2)
