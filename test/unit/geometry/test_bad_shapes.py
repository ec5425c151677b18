import numpy as np
import pytest

from spatialclaw_ros import geometry as geo

K = np.array([[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]])
CASES = [
    (lambda: geo.project(np.ones((4, 2)), K), "points_cam"),
    (lambda: geo.project([0, 0, 1], np.eye(4)), "K"),
    (lambda: geo.project([0, 0, 1], [[0, 0, 0], [0, 1, 0], [0, 0, 1]]), "K"),
    (lambda: geo.backproject(np.ones((2, 2, 1)), K), "depth_m"),
    (lambda: geo.backproject(np.ones((2, 2)), K, mask=np.ones((3, 2), bool)), "mask"),
    (lambda: geo.backproject(np.ones((2, 2)), K, stride=0), "stride"),
    (lambda: geo.PinholeCamera.from_camera_info([1.0] * 8, 640, 480), "k"),
    (lambda: geo.PinholeCamera(K, 0, 480), "width"),
    (lambda: geo.make_transform(np.ones((3, 3)), [0, 0, 0]), "rotation"),
    (lambda: geo.make_transform(np.eye(3), [0, 0]), "translation"),
    (lambda: geo.transform_points(np.eye(3), [0, 0, 0]), "T"),
    (lambda: geo.transform_points(np.eye(4), [[0, 0, np.nan]]), "points"),
    (lambda: geo.invert_transform(np.ones((4, 4))), "T"),
    (lambda: geo.quat_to_matrix([0, 0, 0, 0]), "q"),
    (lambda: geo.quat_to_matrix([0, 0, 1]), "q"),
    (lambda: geo.matrix_to_quat(np.ones((2, 3))), "R"),
    (lambda: geo.quat_slerp([0, 0, 0, 1], [0, 0, 0, 1], np.ones((2, 2))), "t"),
    (lambda: geo.rotation_about_axis([0, 0, 0], 1.0), "axis"),
    (lambda: geo.robust_centroid(np.empty((0, 3))), "points"),
    (lambda: geo.robust_centroid("abc"), "points"),
    (lambda: geo.distance_between(np.ones((3, 2)), [0, 0, 0]), "points_a"),
    (lambda: geo.oriented_box([[0, 0, 0], [1, 1, 1]]), "points"),
    (lambda: geo.gravity_aligned_box([[0, 0, 0]], up=[0, 0]), "up"),
    (lambda: geo.axis_aligned_box([[0, 0, 0]], trim_fraction=0.5), "trim_fraction"),
    (lambda: geo.fit_plane_ransac(np.ones((5, 4))), "points"),
    (lambda: geo.fit_plane_ransac(np.eye(3), threshold_m=0.0), "threshold_m"),
    (lambda: geo.estimate_floor(np.eye(3), up_hint=[0, 0, 1], max_tilt_deg=0.0), "max_tilt_deg"),
    (lambda: geo.height_above_plane([[0, 0, 0]], normal=[0, 0, 0], d=1.0), "normal"),
    (
        lambda: geo.summarize_motion([0, 1, 2], [[0, 0, 0], [1, 0, 0]], up=[0, 0, 1], forward=[1, 0, 0]),
        "stamps_s",
    ),
    (lambda: geo.summarize_motion([0], [[0, 0, 0]], up=[0, 0, 1], forward=[1, 0, 0]), "positions"),
    (lambda: geo.relative_direction([0, 0], [0, 0, 1], T_world_camera=np.eye(4)), "point_a"),
    (lambda: geo.relative_direction([0, 0, 1], [0, 0, 2], T_world_camera=np.eye(3)), "T_world_camera"),
    (lambda: geo.median_depth_scale(np.ones(4), np.ones(4)), "relative_depth"),
    (lambda: geo.umeyama(np.ones((4, 3)), np.ones((5, 3))), "dst"),
]


@pytest.mark.parametrize(("call", "argument"), CASES)
def test_bad_input_raises_value_error_naming_the_argument(call, argument):
    with pytest.raises(ValueError, match=rf"\b{argument}\b"):
        call()
