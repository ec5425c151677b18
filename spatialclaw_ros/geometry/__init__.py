"""Pure-numpy geometry for spatial questions: cameras, transforms, point sets, boxes, planes, motion.

Frames follow REP-103: camera optical frames are x right, y down, z forward; body and world
frames are x forward, y left, z up. Distances are metres, angles radians, times seconds.
Quaternions are (x, y, z, w). `T_a_b` maps points from frame b into frame a. Pixel (u, v) has
u right and v down, with the centre of pixel (row r, column c) at (u, v) = (c, r).
Every public function states its convention in its docstring and checks its input shapes,
raising ValueError that names the offending argument.
"""

from spatialclaw_ros.geometry._alignment import Similarity, median_depth_scale, umeyama
from spatialclaw_ros.geometry._boxes import Box3D, axis_aligned_box, gravity_aligned_box, oriented_box
from spatialclaw_ros.geometry._camera import PinholeCamera, backproject, project
from spatialclaw_ros.geometry._direction import DIRECTIONS, Direction, relative_direction
from spatialclaw_ros.geometry._motion import Motion, heading, path_length, smooth_positions, summarize_motion
from spatialclaw_ros.geometry._planes import PlaneFit, estimate_floor, fit_plane_ransac, height_above_plane
from spatialclaw_ros.geometry._points import Distance, distance_between, robust_centroid
from spatialclaw_ros.geometry._transforms import (
    FORWARD_BODY,
    FORWARD_OPTICAL,
    R_BODY_OPTICAL,
    R_OPTICAL_BODY,
    UP_BODY,
    UP_OPTICAL,
    body_to_optical,
    invert_transform,
    make_transform,
    matrix_to_quat,
    optical_to_body,
    quat_conjugate,
    quat_multiply,
    quat_slerp,
    quat_to_matrix,
    rotate_vectors,
    rotation_about_axis,
    rotation_angle,
    rotation_from_rpy,
    rotation_to_rpy,
    transform_points,
)

__all__ = [
    "DIRECTIONS",
    "FORWARD_BODY",
    "FORWARD_OPTICAL",
    "R_BODY_OPTICAL",
    "R_OPTICAL_BODY",
    "UP_BODY",
    "UP_OPTICAL",
    "Box3D",
    "Direction",
    "Distance",
    "Motion",
    "PinholeCamera",
    "PlaneFit",
    "Similarity",
    "axis_aligned_box",
    "backproject",
    "body_to_optical",
    "distance_between",
    "estimate_floor",
    "fit_plane_ransac",
    "gravity_aligned_box",
    "heading",
    "height_above_plane",
    "invert_transform",
    "make_transform",
    "matrix_to_quat",
    "median_depth_scale",
    "optical_to_body",
    "oriented_box",
    "path_length",
    "project",
    "quat_conjugate",
    "quat_multiply",
    "quat_slerp",
    "quat_to_matrix",
    "relative_direction",
    "robust_centroid",
    "rotate_vectors",
    "rotation_about_axis",
    "rotation_angle",
    "rotation_from_rpy",
    "rotation_to_rpy",
    "smooth_positions",
    "summarize_motion",
    "transform_points",
    "umeyama",
]
