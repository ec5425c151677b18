"""A vectorised numpy ray caster: RGB, metric depth, instance labels and camera pose of a scene view.

Convention:
    One ray per pixel centre (pixel (row r, column c) at (u, v) = (c, r)), cast from the camera
    centre in the direction ``K^-1 (u, v, 1)`` of the optical frame (REP-103: x right, y down,
    z forward). Because that direction has optical z = 1, the hit parameter is the depth along the
    optical axis (REP-118 depth, not the ray length). The nearest hit wins; the room is closed, so
    every pixel sees a surface. Colour is Lambert shading of the albedo under a fixed light from
    above plus a light at the camera, gamma-encoded to 8-bit sRGB-like values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from spatialclaw_ros.sim._camera import SimCamera
from spatialclaw_ros.sim._checks import FloatArray, finite
from spatialclaw_ros.sim._colours import CEILING_ALBEDO, FLOOR_ALBEDO, WALL_ALBEDO, colour_albedo
from spatialclaw_ros.sim._scene import (
    CEILING_ID,
    EAST_WALL_ID,
    FLOOR_ID,
    NORTH_WALL_ID,
    SOUTH_WALL_ID,
    WEST_WALL_ID,
    Room,
    Scene,
)

_LIGHT_DIRECTION = np.array([0.3, 0.2, 1.0]) / math.sqrt(0.3**2 + 0.2**2 + 1.0)
_AMBIENT, _SUN, _HEADLIGHT = 0.3, 0.45, 0.25
_FLOOR_TILE_M = 0.5
# Linear radiance in [0, 1] (4096 steps) → gamma-encoded 8-bit value: a table look-up instead of a power.
_GAMMA_TABLE = np.round(255.0 * np.linspace(0.0, 1.0, 4096) ** (1.0 / 2.2)).astype(np.uint8)
# Corners closer than this to the camera plane make the screen-space bound unreliable: test every pixel.
_NEAR_M = 1e-6


@dataclass(frozen=True)
class RenderedView:
    """What one camera sees at one scene time, with the exact pose and intrinsics.

    ``rgb`` (H, W, 3) uint8; ``depth_m`` (H, W) float32, metres along the optical axis;
    ``labels`` (H, W) uint16 instance ids (see ``Scene.label_map``); ``incidence_cos`` (H, W)
    float32, |cos| of the angle between each pixel's ray and the surface normal it hit (1: head on,
    0: grazing); ``K`` (3, 3); ``T_world_camera`` (4, 4) maps optical-frame points into the world.
    """

    camera: str
    t_s: float
    rgb: NDArray[np.uint8]
    depth_m: NDArray[np.float32]
    labels: NDArray[np.uint16]
    incidence_cos: NDArray[np.float32]
    K: FloatArray
    T_world_camera: FloatArray

    def pixel_counts(self) -> dict[int, int]:
        """Instance id → number of pixels showing it."""
        ids, counts = np.unique(self.labels, return_counts=True)
        return {int(i): int(n) for i, n in zip(ids, counts, strict=True)}


def render(scene: Scene, camera: str | SimCamera, t_s: float = 0.0) -> RenderedView:
    """Render ``camera`` (a camera name of the scene, or any camera in the room) at scene time ``t_s``."""
    cam = scene.camera(camera) if isinstance(camera, str) else camera
    if not isinstance(cam, SimCamera):
        raise ValueError(f"camera must be a camera name or a SimCamera, got {camera!r}")
    time_s = finite("t_s", t_s)
    T = cam.T_world_camera(time_s)
    if not scene.room.contains(T[:3, 3]):
        raise ValueError(f"camera {cam.name!r} stands outside the room at t_s = {time_s}")
    origin = T[:3, 3]
    H, W = cam.height, cam.width
    rays, inverse_length = _optical_rays(W, H, *(float(v) for v in cam.K[[0, 1, 0, 1], [0, 1, 2, 2]]))
    directions = (rays @ T[:3, :3].T).reshape(H, W, 3)
    depth, ids, normals = _room_hits(scene.room, origin, directions.reshape(-1, 3))
    depth, ids, normals = depth.reshape(H, W), ids.reshape(H, W), normals.reshape(H, W, 3)
    for item in scene.objects:
        centre, yaw = item.centre_at(time_s), item.yaw_at(time_s)
        window = _screen_window(item.shape.corners(centre, yaw), T, cam.K, W, H)
        if window is None:
            continue
        rows, cols = window
        block = directions[rows, cols]
        t, n = item.shape.intersect(origin, block.reshape(-1, 3), centre, yaw)
        t = t.reshape(block.shape[:2])
        closer = t < depth[rows, cols]
        depth[rows, cols][closer] = t[closer]
        ids[rows, cols][closer] = item.id
        normals[rows, cols][closer] = n.reshape(block.shape)[closer]
    incidence = np.abs(np.einsum("hwk,hwk->hw", directions, normals)) * inverse_length
    floor = ids == FLOOR_ID
    floor_xy = origin[:2] + depth[floor][:, None] * directions[floor][:, :2]
    rgb = _shade(scene, ids, normals, incidence, floor, floor_xy)
    return RenderedView(
        camera=cam.name,
        t_s=time_s,
        rgb=rgb,
        depth_m=depth.astype(np.float32),
        labels=ids,
        incidence_cos=incidence.astype(np.float32),
        K=cam.K.copy(),
        T_world_camera=T,
    )


@lru_cache(maxsize=16)
def _optical_rays(
    width: int, height: int, fx: float, fy: float, cx: float, cy: float
) -> tuple[FloatArray, FloatArray]:
    """Directions (H * W, 3) through the pixel centres (optical frame, z = 1) and 1 / their lengths (H, W).

    Both read-only and cached: a rotation into the world keeps the lengths.
    """
    u, v = np.meshgrid(np.arange(width, dtype=float), np.arange(height, dtype=float))
    rays = np.stack([(u - cx) / fx, (v - cy) / fy, np.ones_like(u)], axis=-1)
    inverse_length = 1.0 / np.linalg.norm(rays, axis=2)
    rays = rays.reshape(-1, 3)
    rays.flags.writeable = False
    inverse_length.flags.writeable = False
    return rays, inverse_length


def _room_hits(
    room: Room, origin: FloatArray, directions: FloatArray
) -> tuple[FloatArray, NDArray, FloatArray]:
    """Exit of each ray from the inside of the room: depth (N,), surface id (N,) uint16, normal (N, 3)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = np.where(directions > 0.0, room.upper_m, room.lower_m)
        t_axes = np.where(directions != 0.0, (bound - origin) / directions, np.inf)
    axis = np.argmin(t_axes, axis=1)
    rows = np.arange(len(directions))
    t = t_axes[rows, axis]
    positive = directions[rows, axis] > 0.0
    surface_ids = np.array(
        [[WEST_WALL_ID, EAST_WALL_ID], [SOUTH_WALL_ID, NORTH_WALL_ID], [FLOOR_ID, CEILING_ID]]
    )
    ids = surface_ids[axis, positive.astype(int)].astype(np.uint16)
    normals = np.zeros_like(directions)
    normals[rows, axis] = np.where(positive, -1.0, 1.0)
    return t, ids, normals


def _screen_window(
    corners_world: FloatArray, T_world_camera: FloatArray, K: FloatArray, width: int, height: int
) -> tuple[slice, slice] | None:
    """Pixel rows and columns that can see a convex object with these corners; None when none can."""
    corners = (corners_world - T_world_camera[:3, 3]) @ T_world_camera[:3, :3]
    z = corners[:, 2]
    if np.all(z <= _NEAR_M):
        return None
    if np.any(z <= _NEAR_M):
        return slice(0, height), slice(0, width)
    u = K[0, 0] * corners[:, 0] / z + K[0, 2]
    v = K[1, 1] * corners[:, 1] / z + K[1, 2]
    c0, c1 = max(0, math.floor(u.min())), min(width, math.ceil(u.max()) + 1)
    r0, r1 = max(0, math.floor(v.min())), min(height, math.ceil(v.max()) + 1)
    if c0 >= c1 or r0 >= r1:
        return None
    return slice(r0, r1), slice(c0, c1)


def _albedo_table(scene: Scene) -> FloatArray:
    table = np.zeros((max([CEILING_ID, SOUTH_WALL_ID, *(item.id for item in scene.objects)]) + 1, 3))
    table[FLOOR_ID] = FLOOR_ALBEDO
    table[CEILING_ID] = CEILING_ALBEDO
    table[[EAST_WALL_ID, WEST_WALL_ID, NORTH_WALL_ID, SOUTH_WALL_ID]] = WALL_ALBEDO
    for item in scene.objects:
        table[item.id] = colour_albedo(item.colour)
    return table


def _shade(
    scene: Scene,
    ids: NDArray,
    normals: FloatArray,
    incidence: FloatArray,
    floor: NDArray[np.bool_],
    floor_xy: FloatArray,
) -> NDArray[np.uint8]:
    """Lambert-shaded 8-bit colour; the floor is tiled in a faint chequerboard (``floor_xy``: world x, y)."""
    albedo = _albedo_table(scene)[ids]
    tiles = np.floor(floor_xy[:, 0] / _FLOOR_TILE_M) + np.floor(floor_xy[:, 1] / _FLOOR_TILE_M)
    albedo[floor] *= np.where(tiles % 2 == 0, 1.0, 0.85)[:, None]
    sun = np.maximum(normals @ _LIGHT_DIRECTION, 0.0)
    radiance = albedo * (_AMBIENT + _SUN * sun + _HEADLIGHT * incidence)[..., None]
    levels = (np.minimum(radiance, 1.0) * (len(_GAMMA_TABLE) - 1) + 0.5).astype(np.intp)
    return _GAMMA_TABLE[levels]
