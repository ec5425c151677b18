"""Pure-numpy geometry for spatial questions: cameras, transforms, point sets, boxes, planes, motion.

The estimators that measure objects seen in depth over time live here too: per-pixel medians over
time, depth surfaces with their uncertainty, upright box and cylinder fits, supports, velocities.

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
from spatialclaw_ros.geometry._circles import Circle, fit_circle
from spatialclaw_ros.geometry._direction import DIRECTIONS, Direction, relative_direction
from spatialclaw_ros.geometry._motion import Motion, heading, path_length, smooth_positions, summarize_motion
from spatialclaw_ros.geometry._planes import PlaneFit, estimate_floor, fit_plane_ransac, height_above_plane
from spatialclaw_ros.geometry._points import Distance, distance_between, robust_centroid
from spatialclaw_ros.geometry._support import rest_on_support, support_height
from spatialclaw_ros.geometry._surface import (
    Surface,
    fuse_surfaces,
    surface_from_depth,
    without_far_outliers,
    without_isolated_points,
)
from spatialclaw_ros.geometry._temporal import TemporalMedian, median_over_time
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
from spatialclaw_ros.geometry._upright import fit_upright_box
from spatialclaw_ros.geometry._velocity import latest_straight_stretch, theil_sen_velocity

__all__ = [
    "DIRECTIONS",
    "FORWARD_BODY",
    "FORWARD_OPTICAL",
    "R_BODY_OPTICAL",
    "R_OPTICAL_BODY",
    "UP_BODY",
    "UP_OPTICAL",
    "Box3D",
    "Circle",
    "Direction",
    "Distance",
    "Motion",
    "PinholeCamera",
    "PlaneFit",
    "Similarity",
    "Surface",
    "TemporalMedian",
    "axis_aligned_box",
    "backproject",
    "body_to_optical",
    "distance_between",
    "estimate_floor",
    "fit_circle",
    "fit_plane_ransac",
    "fit_upright_box",
    "fuse_surfaces",
    "gravity_aligned_box",
    "heading",
    "height_above_plane",
    "invert_transform",
    "latest_straight_stretch",
    "make_transform",
    "matrix_to_quat",
    "median_depth_scale",
    "median_over_time",
    "optical_to_body",
    "oriented_box",
    "path_length",
    "project",
    "quat_conjugate",
    "quat_multiply",
    "quat_slerp",
    "quat_to_matrix",
    "relative_direction",
    "rest_on_support",
    "robust_centroid",
    "rotate_vectors",
    "rotation_about_axis",
    "rotation_angle",
    "rotation_from_rpy",
    "rotation_to_rpy",
    "smooth_positions",
    "summarize_motion",
    "support_height",
    "surface_from_depth",
    "theil_sen_velocity",
    "transform_points",
    "umeyama",
    "without_far_outliers",
    "without_isolated_points",
]
