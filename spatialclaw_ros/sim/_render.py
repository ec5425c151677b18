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
from collections.abc import Sequence
from dataclasses import dataclass, replace
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
    SceneObject,
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
    view = _View.of(scene, camera, t_s)
    return view.result(*_cast(scene.room, scene.objects, _albedo_table(scene), view))


def _cast(
    room: Room, objects: Sequence[SceneObject], albedo_table: FloatArray, view: _View
) -> tuple[FloatArray, NDArray[np.uint16], FloatArray, NDArray[np.uint8]]:
    """Cast every ray of ``view`` into the room and ``objects``: depth, ids, incidence and colour."""
    depth, ids, normals = _room_hits(room, view.origin, view.directions.reshape(-1, 3))
    depth, ids, normals = (
        depth.reshape(view.shape),
        ids.reshape(view.shape),
        normals.reshape((*view.shape, 3)),
    )
    for item in objects:
        drawn = _composite(item, view, depth, ids)
        if drawn is not None:
            window, taken, item_normals = drawn
            normals[window][taken] = item_normals[taken]
    incidence = view.incidence(normals)
    floor = ids == FLOOR_ID
    floor_xy = view.origin[:2] + depth[floor][:, None] * view.directions[floor][:, :2]
    return depth, ids, incidence, _shade(albedo_table, ids, normals, incidence, floor, floor_xy)


class SceneRenderer:
    """Renders the views of one scene, keeping what does not change from one scene time to the next.

    A camera that stands still sees the room and the static objects alike at every time: their
    depth, labels, incidence and colour are cast once per camera pose and kept; each view then
    casts only the rays in the screen windows of the moving objects and shades the pixels they
    cover. Views are those of :func:`render`, pixel for pixel, at a fraction of the cost when few
    objects move (a simulator publishing a fixed rig at a rate).
    """

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self._albedo = _albedo_table(scene)
        self._static_objects = [item for item in scene.objects if not item.moving]
        self._moving_objects = [item for item in scene.objects if item.moving]
        self._layers: dict[str, _StaticLayer] = {}

    def render(self, camera: str | SimCamera, t_s: float = 0.0) -> RenderedView:
        """Render ``camera`` at scene time ``t_s`` (see :func:`render`)."""
        cam, time_s, T_world_camera = _locate(self.scene, camera, t_s)
        layer = self._layers.get(cam.name)
        if layer is None or not np.array_equal(layer.view.T_world_camera, T_world_camera):
            layer = self._layers[cam.name] = self._static_layer(_View.looking(cam, time_s, T_world_camera))
        view = replace(layer.view, t_s=time_s)
        depth, ids, incidence, rgb = (a.copy() for a in (layer.depth, layer.ids, layer.incidence, layer.rgb))
        for item in self._moving_objects:
            drawn = _composite(item, view, depth, ids)
            if drawn is None:
                continue
            window, taken, item_normals = drawn
            cos = view.incidence(item_normals, window)[taken]
            incidence[window][taken] = cos
            rgb[window][taken] = _radiance_to_rgb(self._albedo[item.id], item_normals[taken], cos)
        return view.result(depth, ids, incidence, rgb)

    def _static_layer(self, view: _View) -> _StaticLayer:
        return _StaticLayer(view, *_cast(self.scene.room, self._static_objects, self._albedo, view))


@dataclass(frozen=True)
class _StaticLayer:
    """A still camera's view of the room and the static objects (see :class:`SceneRenderer`).

    ``view`` keeps the pose and the rays' world directions, which do not change while the camera
    stands still.
    """

    view: _View
    depth: FloatArray
    ids: NDArray[np.uint16]
    incidence: FloatArray
    rgb: NDArray[np.uint8]


@dataclass(frozen=True)
class _View:
    """One camera at one scene time: its pose and the world direction of every pixel's ray."""

    camera: SimCamera
    t_s: float
    T_world_camera: FloatArray
    directions: FloatArray
    inverse_length: FloatArray

    @classmethod
    def of(cls, scene: Scene, camera: str | SimCamera, t_s: float) -> _View:
        """``camera`` (a name of the scene, or any camera in the room) at scene time ``t_s``."""
        return cls.looking(*_locate(scene, camera, t_s))

    @classmethod
    def looking(cls, camera: SimCamera, t_s: float, T_world_camera: FloatArray) -> _View:
        """``camera`` standing at ``T_world_camera`` at scene time ``t_s``."""
        fx, fy, cx, cy = (float(v) for v in camera.K[[0, 1, 0, 1], [0, 1, 2, 2]])
        rays, inverse_length = _optical_rays(camera.width, camera.height, fx, fy, cx, cy)
        directions = (rays @ T_world_camera[:3, :3].T).reshape(camera.height, camera.width, 3)
        return cls(camera, t_s, T_world_camera, directions, inverse_length)

    @property
    def shape(self) -> tuple[int, int]:
        return self.camera.height, self.camera.width

    @property
    def origin(self) -> FloatArray:
        return self.T_world_camera[:3, 3]

    def incidence(
        self, normals: FloatArray, window: tuple[slice, slice] = (slice(None), slice(None))
    ) -> FloatArray:
        """|cos| between the rays (of ``window``) and ``normals`` of the same shape."""
        return (
            np.abs(np.einsum("hwk,hwk->hw", self.directions[window], normals)) * self.inverse_length[window]
        )

    def result(
        self, depth: FloatArray, ids: NDArray[np.uint16], incidence: FloatArray, rgb: NDArray[np.uint8]
    ) -> RenderedView:
        """The view's images (depth in metres along the optical axis, instance ids, |cos|, colour)."""
        return RenderedView(
            camera=self.camera.name,
            t_s=self.t_s,
            rgb=rgb,
            depth_m=depth.astype(np.float32),
            labels=ids,
            incidence_cos=incidence.astype(np.float32),
            K=self.camera.K.copy(),
            T_world_camera=self.T_world_camera,
        )


def _locate(scene: Scene, camera: str | SimCamera, t_s: float) -> tuple[SimCamera, float, FloatArray]:
    """The camera, the checked scene time and the camera's pose then; ValueError outside the room."""
    cam = scene.camera(camera) if isinstance(camera, str) else camera
    if not isinstance(cam, SimCamera):
        raise ValueError(f"camera must be a camera name or a SimCamera, got {camera!r}")
    time_s = finite("t_s", t_s)
    T = cam.T_world_camera(time_s)
    if not scene.room.contains(T[:3, 3]):
        raise ValueError(f"camera {cam.name!r} stands outside the room at t_s = {time_s}")
    return cam, time_s, T


def _composite(
    item: SceneObject, view: _View, depth: FloatArray, ids: NDArray[np.uint16]
) -> tuple[tuple[slice, slice], NDArray[np.bool_], FloatArray] | None:
    """Draw ``item`` into the depth and id images where it is nearer.

    Returns its screen window, the window's pixels it took and its surface normals over the window
    (H', W', 3); None when no pixel can see it.
    """
    centre, yaw = item.centre_at(view.t_s), item.yaw_at(view.t_s)
    height, width = view.shape
    window = _screen_window(
        item.shape.corners(centre, yaw), view.T_world_camera, view.camera.K, width, height
    )
    if window is None:
        return None
    block = view.directions[window]
    t, n = item.shape.intersect(view.origin, block.reshape(-1, 3), centre, yaw)
    t = t.reshape(block.shape[:2])
    closer = t < depth[window]
    depth[window][closer] = t[closer]
    ids[window][closer] = item.id
    return window, closer, n.reshape(block.shape)


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
    albedo_table: FloatArray,
    ids: NDArray,
    normals: FloatArray,
    incidence: FloatArray,
    floor: NDArray[np.bool_],
    floor_xy: FloatArray,
) -> NDArray[np.uint8]:
    """Lambert-shaded 8-bit colour; the floor is tiled in a faint chequerboard (``floor_xy``: world x, y)."""
    albedo = albedo_table[ids]
    tiles = np.floor(floor_xy[:, 0] / _FLOOR_TILE_M) + np.floor(floor_xy[:, 1] / _FLOOR_TILE_M)
    albedo[floor] *= np.where(tiles % 2 == 0, 1.0, 0.85)[:, None]
    return _radiance_to_rgb(albedo, normals, incidence)


def _radiance_to_rgb(albedo: FloatArray, normals: FloatArray, incidence: FloatArray) -> NDArray[np.uint8]:
    """8-bit colour of surfaces of ``albedo`` (..., 3) facing ``normals`` (..., 3), lit by sun and camera."""
    sun = np.maximum(normals @ _LIGHT_DIRECTION, 0.0)
    radiance = albedo * (_AMBIENT + _SUN * sun + _HEADLIGHT * incidence)[..., None]
    levels = (np.minimum(radiance, 1.0) * (len(_GAMMA_TABLE) - 1) + 0.5).astype(np.intp)
    return _GAMMA_TABLE[levels]
