"""Synthetic indoor scenes with exact ground truth and a numpy ray caster; ROS-free.

The ROS node that publishes these scenes as cameras (:mod:`spatialclaw_ros.ros.sim_publisher`) and
the demo's orchestration (:mod:`spatialclaw_ros.ros.demo`) live in the ROS room. Frames follow REP-103: the
world frame is x east, y north, z up, origin on the floor at the middle of the room; camera optical
frames are x right, y down, z forward; ``T_world_camera`` maps optical-frame points into the world.
Metres, radians, seconds (scene time: 0 when the scene starts).

Example:
    >>> scene = generate_scene(seed=3, cameras=("front",), width=160, height=120)
    >>> view = render(scene, "front", t_s=1.0)
    >>> view.rgb.shape, view.depth_m.dtype, view.labels.dtype
    ((120, 160, 3), dtype('float32'), dtype('uint16'))
    >>> person = scene.truth(t_s=1.0).by_category("person")[0]
    >>> person.speed_mps > 0.0
    True
"""

from spatialclaw_ros.sim._camera import CameraMotion, SimCamera
from spatialclaw_ros.sim._colours import OBJECT_COLOURS
from spatialclaw_ros.sim._generate import MAX_CAMERAS, SCENE_KINDS, generate_scene
from spatialclaw_ros.sim._ground_truth import GroundTruth, label_map_json
from spatialclaw_ros.sim._noise import DepthNoise, add_depth_noise
from spatialclaw_ros.sim._paths import CircularPath, LinearPath, heading_rad
from spatialclaw_ros.sim._render import RenderedView, SceneRenderer, render
from spatialclaw_ros.sim._scene import (
    CEILING_ID,
    EAST_WALL_ID,
    FIRST_OBJECT_ID,
    FLOOR_ID,
    NORTH_WALL_ID,
    SOUTH_WALL_ID,
    STRUCTURE_LABELS,
    WEST_WALL_ID,
    Room,
    Scene,
    SceneObject,
)
from spatialclaw_ros.sim._shapes import Box, Cylinder
from spatialclaw_ros.sim._truth import (
    ObjectTruth,
    SceneTruth,
    centre_distance,
    height_above_floor,
    horizontal_distance,
    surface_distance,
)

__all__ = [
    "CEILING_ID",
    "EAST_WALL_ID",
    "FIRST_OBJECT_ID",
    "FLOOR_ID",
    "MAX_CAMERAS",
    "NORTH_WALL_ID",
    "OBJECT_COLOURS",
    "SCENE_KINDS",
    "SOUTH_WALL_ID",
    "STRUCTURE_LABELS",
    "WEST_WALL_ID",
    "Box",
    "CameraMotion",
    "CircularPath",
    "Cylinder",
    "DepthNoise",
    "GroundTruth",
    "LinearPath",
    "ObjectTruth",
    "RenderedView",
    "Room",
    "Scene",
    "SceneObject",
    "SceneRenderer",
    "SceneTruth",
    "SimCamera",
    "add_depth_noise",
    "centre_distance",
    "generate_scene",
    "heading_rad",
    "height_above_floor",
    "horizontal_distance",
    "label_map_json",
    "render",
    "surface_distance",
]
