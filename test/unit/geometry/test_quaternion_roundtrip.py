import numpy as np
import pytest

from spatialclaw_ros import geometry as geo


def _random_rotations(rng, n):
    q = rng.normal(size=(n, 4))
    return geo.quat_to_matrix(q)


def test_matrix_quat_matrix_roundtrip(rng):
    R = _random_rotations(rng, 50)
    np.testing.assert_allclose(geo.quat_to_matrix(geo.matrix_to_quat(R)), R, atol=1e-12)


@pytest.mark.parametrize("axis", [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, -2, 3]])
@pytest.mark.parametrize("angle", [np.pi, np.pi - 1e-7, np.pi - 1e-3])
def test_near_180_degrees_roundtrip(axis, angle):
    R = geo.rotation_about_axis(axis, angle)
    q = geo.matrix_to_quat(R)
    np.testing.assert_allclose(geo.quat_to_matrix(q), R, atol=1e-12)
    unit_axis = np.asarray(axis, float) / np.linalg.norm(axis)
    np.testing.assert_allclose(np.abs(q[:3]), np.abs(unit_axis * np.sin(angle / 2)), atol=1e-12)


def test_w_is_non_negative(rng):
    assert (geo.matrix_to_quat(_random_rotations(rng, 30))[:, 3] >= 0).all()


def test_known_quaternion_is_90_degrees_about_z():
    s = np.sqrt(0.5)
    np.testing.assert_allclose(
        geo.matrix_to_quat(geo.rotation_about_axis([0, 0, 1], np.pi / 2)), [0, 0, s, s]
    )


def test_product_matches_matrix_product(rng):
    q1, q2 = rng.normal(size=(2, 4))
    np.testing.assert_allclose(
        geo.quat_to_matrix(geo.quat_multiply(q1, q2)),
        geo.quat_to_matrix(q1) @ geo.quat_to_matrix(q2),
        atol=1e-12,
    )


def test_conjugate_is_the_inverse(rng):
    q = rng.normal(size=4)
    np.testing.assert_allclose(geo.quat_multiply(q, geo.quat_conjugate(q)), [0, 0, 0, 1], atol=1e-12)


def test_slerp_interpolates_the_angle_linearly():
    q0 = [0.0, 0.0, 0.0, 1.0]
    q1 = geo.matrix_to_quat(geo.rotation_about_axis([0, 1, 0], 1.2))
    quats = geo.quat_slerp(q0, q1, [0.0, 0.25, 1.0])
    angles = [geo.rotation_angle(R) for R in geo.quat_to_matrix(quats)]
    np.testing.assert_allclose(angles, [0.0, 0.3, 1.2], atol=1e-12)


def test_slerp_takes_the_short_way():
    q1 = -geo.matrix_to_quat(geo.rotation_about_axis([0, 0, 1], 0.4))
    mid = geo.quat_slerp([0.0, 0.0, 0.0, 1.0], q1, 0.5)
    assert geo.rotation_angle(geo.quat_to_matrix(mid)) == pytest.approx(0.2)
