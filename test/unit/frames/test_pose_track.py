import numpy as np
import pytest

from spatialclaw_ros.frames import PoseLookupError, PoseTrack, TopicPoseSource, pose_matrix

NS = 1_000_000_000
OMEGA = 0.4  # rad/s
RADIUS = 2.0  # m
SPEED_Z = 0.1  # m/s


def circle_pose(t):
    """Analytic motion: on a circle in the xy plane, climbing in z, yaw = heading of the tangent."""
    angle = OMEGA * t
    position = [RADIUS * np.cos(angle), RADIUS * np.sin(angle), SPEED_Z * t]
    yaw = angle + np.pi / 2
    return position, [0.0, 0.0, np.sin(yaw / 2), np.cos(yaw / 2)]


def circle_track(step_s=0.05, duration_s=10.0):
    track = PoseTrack(history_s=60.0)
    for t in np.arange(0.0, duration_s + 1e-9, step_s):
        track.add(round(t * NS), *circle_pose(t), "odom")
    return track


def test_orientation_interpolation_is_exact_for_constant_yaw_rate():
    track = circle_track()
    for t in [0.013, 1.2345, 7.77, 9.999]:
        T = track.T_world_body(round(t * NS))
        expected = pose_matrix(*circle_pose(t))
        np.testing.assert_allclose(T[:3, :3], expected[:3, :3], atol=1e-9)


def test_position_interpolation_error_is_the_chord_sagitta():
    track = circle_track(step_s=0.05)
    t = 3.025  # midway between samples: the chord misses the arc by R (1 - cos(ω Δt / 2))
    T = track.T_world_body(round(t * NS))
    expected = pose_matrix(*circle_pose(t))
    sagitta = RADIUS * (1 - np.cos(OMEGA * 0.05 / 2))
    assert abs(np.linalg.norm(T[:3, 3] - expected[:3, 3]) - sagitta) < 1e-9


def test_linear_motion_interpolates_exactly():
    track = PoseTrack(history_s=10.0, max_gap_s=2.0)
    track.add(0, [0, 0, 0], [0, 0, 0, 1], "map")
    track.add(NS, [1.0, -2.0, 0.5], [0, 0, 0, 1], "map")
    np.testing.assert_allclose(track.T_world_body(NS // 4)[:3, 3], [0.25, -0.5, 0.125], atol=1e-12)


def test_small_extrapolation_holds_the_end_pose_and_large_is_an_error():
    track = circle_track(duration_s=1.0)
    np.testing.assert_allclose(track.T_world_body(int(1.05 * NS)), pose_matrix(*circle_pose(1.0)), atol=1e-12)
    with pytest.raises(PoseLookupError, match="outside"):
        track.T_world_body(int(1.5 * NS))


def test_gap_between_samples_is_an_error():
    track = PoseTrack(history_s=10.0, max_gap_s=0.5)
    track.add(0, [0, 0, 0], [0, 0, 0, 1], "map")
    track.add(2 * NS, [1, 0, 0], [0, 0, 0, 1], "map")
    with pytest.raises(PoseLookupError, match="apart"):
        track.T_world_body(NS)


def test_empty_track_is_an_error():
    with pytest.raises(PoseLookupError, match="no pose"):
        PoseTrack(history_s=1.0).T_world_body(0)


def test_history_is_bounded():
    track = PoseTrack(history_s=1.0)
    for i in range(100):
        track.add(i * NS // 10, [i, 0, 0], [0, 0, 0, 1], "map")
    assert len(track) == 11


def test_topic_source_composes_the_camera_extrinsic():
    track = circle_track()
    T_body_camera = pose_matrix([0.2, 0.0, 0.5], [-0.5, 0.5, -0.5, 0.5])
    source = TopicPoseSource(track, {"front": T_body_camera})
    T, world = source.camera_pose("front", "front_optical", 2 * NS, "")
    assert world == "odom"
    np.testing.assert_allclose(T, pose_matrix(*circle_pose(2.0)) @ T_body_camera, atol=1e-9)


def test_topic_source_refuses_another_target_frame():
    source = TopicPoseSource(circle_track(), {})
    with pytest.raises(PoseLookupError, match="map"):
        source.camera_pose("front", "front_optical", NS, "map")
