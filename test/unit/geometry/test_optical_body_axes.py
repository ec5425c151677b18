import numpy as np

from spatialclaw_ros import geometry as geo


def test_optical_axes_map_to_rep103_body_axes():
    # optical z (forward) -> body x, optical x (right) -> body -y, optical y (down) -> body -z
    np.testing.assert_array_equal(geo.optical_to_body(np.eye(3)), [[0, -1, 0], [0, 0, -1], [1, 0, 0]])


def test_rotation_is_proper_and_inverse_is_its_transpose():
    assert np.linalg.det(geo.R_BODY_OPTICAL) == 1.0
    np.testing.assert_array_equal(geo.R_OPTICAL_BODY @ geo.R_BODY_OPTICAL, np.eye(3))


def test_up_and_forward_constants_agree_between_frames():
    np.testing.assert_array_equal(geo.optical_to_body(geo.UP_OPTICAL), geo.UP_BODY)
    np.testing.assert_array_equal(geo.optical_to_body(geo.FORWARD_OPTICAL), geo.FORWARD_BODY)


def test_body_to_optical_inverts_optical_to_body(rng):
    points = rng.normal(size=(5, 3))
    np.testing.assert_allclose(geo.body_to_optical(geo.optical_to_body(points)), points)


def test_constants_are_read_only():
    assert not geo.R_BODY_OPTICAL.flags.writeable
    assert not geo.UP_OPTICAL.flags.writeable
