import numpy as np
import pytest

from spatialclaw_ros import geometry as geo

# A sits 3 m in front of the camera (optical frame, identity pose); B is offset by 0.5 m.
A = np.array([0.0, 0.0, 3.0])
OPTICAL_CASES = [
    ([-0.5, 0.0, 0.0], "left"),
    ([0.5, 0.0, 0.0], "right"),
    ([0.0, 0.0, -0.5], "front"),
    ([0.0, 0.0, 0.5], "behind"),
    ([0.0, -0.5, 0.0], "above"),
    ([0.0, 0.5, 0.0], "below"),
]


@pytest.mark.parametrize(("offset", "expected"), OPTICAL_CASES)
def test_each_answer_from_a_camera_pose(offset, expected):
    assert geo.relative_direction(A, A + offset, T_world_camera=np.eye(4)).primary == expected


# A person at the origin of a REP-103 world frame (z up) looks along +x at A.
VIEWER_CASES = [
    ([0.0, 0.5, 0.0], "left"),
    ([0.0, -0.5, 0.0], "right"),
    ([-0.5, 0.0, 0.0], "front"),
    ([0.5, 0.0, 0.0], "behind"),
    ([0.0, 0.0, 0.5], "above"),
    ([0.0, 0.0, -0.5], "below"),
]


@pytest.mark.parametrize(("offset", "expected"), VIEWER_CASES)
def test_each_answer_from_a_viewer_position(offset, expected):
    a = np.array([3.0, 0.0, 1.0])
    d = geo.relative_direction(a, a + offset, viewer_position=[0.0, 0.0, 1.7], up=geo.UP_BODY)
    assert d.primary == expected


def test_angles_and_components():
    d = geo.relative_direction(A, A + np.array([0.5, -0.5, 0.5]), T_world_camera=np.eye(4))
    assert (d.right_m, d.away_m, d.up_m) == (0.5, 0.5, 0.5)
    assert d.azimuth_rad == pytest.approx(np.pi / 4)
    assert d.elevation_rad == pytest.approx(np.arctan2(0.5, np.hypot(0.5, 0.5)))


def test_camera_pose_in_a_world_frame():
    # Camera at the world origin looking along world +x, level (optical -> body rotation).
    T_world_camera = geo.make_transform(geo.R_BODY_OPTICAL, [0.0, 0.0, 1.0])
    d = geo.relative_direction([3.0, 0.0, 1.0], [3.0, 1.0, 1.0], T_world_camera=T_world_camera)
    assert d.primary == "left"


def test_levelling_with_up_ignores_camera_pitch():
    # Camera looking 60 degrees down: in its own axes B (straight above A) is mostly "front".
    pitched = geo.make_transform(geo.rotation_about_axis([1, 0, 0], np.deg2rad(-60)), [0, 0, 0])
    a, b = np.array([0.0, 0.0, 3.0]), np.array([0.0, -0.9, 3.0])
    assert geo.relative_direction(a, b, T_world_camera=pitched, up=geo.UP_OPTICAL).primary == "above"
    assert geo.relative_direction(a, b, T_world_camera=pitched).primary == "front"


def test_point_sets_are_reduced_to_their_median():
    a = np.array([[0.0, 0.0, 3.0]] * 3 + [[9.0, 9.0, 9.0]])
    assert geo.relative_direction(a, [1.0, 0.0, 3.0], T_world_camera=np.eye(4)).primary == "right"


def test_exactly_one_viewer_is_required():
    with pytest.raises(ValueError, match="exactly one"):
        geo.relative_direction(A, A + 1.0)
    with pytest.raises(ValueError, match="up is required"):
        geo.relative_direction(A, A + 1.0, viewer_position=[0, 0, 0])


def test_coincident_points_are_rejected():
    with pytest.raises(ValueError, match="coincide"):
        geo.relative_direction(A, A, T_world_camera=np.eye(4))
