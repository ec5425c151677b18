import numpy as np

from spatialclaw_ros.frames import FrameBuffer, depth_to_image, numpy_to_image, pose_matrix, write_snapshot

NS = 1_000_000_000


def rgbd_buffer(msgs, depth_m, depth_frame, depth_fx, T_color_depth=None):
    buffer = FrameBuffer(keyframe_hz=1.0, history_s=100.0, max_memory_mb=100.0)
    buffer.configure_camera("cam", T_color_depth=T_color_depth)
    buffer.set_camera_info("cam", msgs.camera_info(8, 6, fx=50.0))
    height, width = depth_m.shape
    buffer.set_camera_info("cam", msgs.camera_info(width, height, fx=depth_fx, frame_id=depth_frame), "depth")
    buffer.add_image("cam", msgs.image(numpy_to_image(np.zeros((6, 8, 3), np.uint8), "rgb8"), NS))
    buffer.add_depth("cam", msgs.image(depth_to_image(depth_m, "32FC1"), NS, depth_frame))
    return buffer


def test_same_frame_lower_resolution_is_resampled(tmp_path, msgs):
    depth_m = np.arange(1, 13, dtype=np.float32).reshape(3, 4)
    index = write_snapshot(rgbd_buffer(msgs, depth_m, "cam_optical", 25.0), tmp_path / "q")
    frame = index.frames[0]
    assert frame.depth_registration == "resampled"
    rows, cols = np.mgrid[0:6, 0:8]
    np.testing.assert_array_equal(np.load(tmp_path / "q" / frame.depth), depth_m[rows // 2, cols // 2])


def test_other_frame_with_extrinsic_is_reprojected(tmp_path, msgs):
    plane_m = np.full((6, 8), 1.0, np.float32)
    T_color_depth = pose_matrix([0.04, 0.0, 0.0], [0, 0, 0, 1])  # fx · tx / z = 2 px shift
    buffer = rgbd_buffer(msgs, plane_m, "cam_depth_optical", 50.0, T_color_depth)
    index = write_snapshot(buffer, tmp_path / "q")
    depth = np.load(tmp_path / "q" / index.frames[0].depth)
    assert index.frames[0].depth_registration == "reprojected"
    assert np.all(np.isnan(depth[:, :2])) and np.all(depth[:, 2:] == 1.0)


def test_nearest_surface_wins_when_points_collide(tmp_path, msgs):
    depth_m = np.full((6, 8), 2.0, np.float32)
    depth_m[:, 4] = 1.0  # a near column that lands on the same colour pixels as far ones
    T_color_depth = pose_matrix([0.04, 0.0, 0.0], [0, 0, 0, 1])
    index = write_snapshot(rgbd_buffer(msgs, depth_m, "d", 50.0, T_color_depth), tmp_path / "q")
    depth = np.load(tmp_path / "q" / index.frames[0].depth)
    assert np.all(depth[:, 6] == 1.0)


def test_other_frame_without_transform_is_a_clear_error(tmp_path, msgs):
    index = write_snapshot(
        rgbd_buffer(msgs, np.ones((6, 8), np.float32), "cam_depth_optical", 50.0), tmp_path / "q"
    )
    assert index.frames[0].depth is None
    (error,) = index.errors
    assert (
        "depth.header.frame_id" in error and "cam.T_color_depth" in error and "'cam_depth_optical'" in error
    )
