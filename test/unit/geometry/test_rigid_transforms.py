import numpy as np
import pytest

from spatialclaw_ros import geometry as geo


def test_transform_rotates_then_translates():
    T = geo.make_transform(geo.rotation_about_axis([0, 0, 1], np.pi / 2), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(geo.transform_points(T, [1.0, 0.0, 0.0]), [1.0, 3.0, 3.0], atol=1e-12)


def test_inverse_undoes_the_transform(rng):
    T = geo.make_transform(geo.rotation_from_rpy(0.3, -0.7, 2.0), [0.5, -1.0, 4.0])
    points = rng.normal(size=(20, 3))
    back = geo.transform_points(geo.invert_transform(T), geo.transform_points(T, points))
    np.testing.assert_allclose(back, points, atol=1e-12)


def test_make_transform_accepts_a_quaternion():
    s = np.sqrt(0.5)
    T = geo.make_transform([0.0, 0.0, s, s], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(T[:3, :3], geo.rotation_about_axis([0, 0, 1], np.pi / 2), atol=1e-12)


def test_single_point_keeps_its_shape():
    assert geo.transform_points(np.eye(4), [1.0, 2.0, 3.0]).shape == (3,)


def test_rpy_roundtrip_and_yaw_convention():
    R = geo.rotation_from_rpy(0.2, 0.4, -1.1)
    np.testing.assert_allclose(geo.rotation_to_rpy(R), (0.2, 0.4, -1.1), atol=1e-12)
    np.testing.assert_allclose(
        geo.rotation_from_rpy(0.0, 0.0, 0.5), geo.rotation_about_axis([0, 0, 1], 0.5), atol=1e-12
    )


def test_rotation_angle_of_a_known_rotation():
    assert geo.rotation_angle(geo.rotation_about_axis([1, 1, 0], 2.5)) == pytest.approx(2.5, abs=1e-12)
