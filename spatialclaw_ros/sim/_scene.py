"""Simulated indoor scenes: a closed room, labelled solid objects (some moving on known paths), cameras.

Convention:
    World frame REP-103 (x east, y north, z up), origin at the centre of the floor; the room spans
    x in [-length/2, length/2], y in [-width/2, width/2], z in [0, height]. Metres, radians, scene
    seconds. Instance ids: 0 is never drawn (the room is closed), the floor, ceiling and the four
    walls have ids 1 to 6 (``STRUCTURE_LABELS``), objects have ids from ``FIRST_OBJECT_ID`` up to 65535.
    A moving object keeps the height of ``centre_m`` and follows its path on the floor; a moving
    box turns to face its direction of travel (its +x axis along the velocity).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

import numpy as np

from spatialclaw_ros.sim._camera import CameraMotion, SimCamera
from spatialclaw_ros.sim._checks import FloatArray, finite, positive, vector
from spatialclaw_ros.sim._colours import colour_albedo
from spatialclaw_ros.sim._paths import CircularPath, LinearPath, Path
from spatialclaw_ros.sim._shapes import Box, Cylinder, Shape
from spatialclaw_ros.sim._truth import ObjectTruth, SceneTruth

FLOOR_ID = 1
CEILING_ID = 2
EAST_WALL_ID = 3
WEST_WALL_ID = 4
NORTH_WALL_ID = 5
SOUTH_WALL_ID = 6
STRUCTURE_LABELS: dict[int, str] = {
    FLOOR_ID: "floor",
    CEILING_ID: "ceiling",
    EAST_WALL_ID: "east wall",
    WEST_WALL_ID: "west wall",
    NORTH_WALL_ID: "north wall",
    SOUTH_WALL_ID: "south wall",
}
FIRST_OBJECT_ID = 10
MAX_ID = 65535

# Numerical slack for "inside the room" checks, metres.
_SLACK_M = 1e-9


@dataclass(frozen=True)
class Room:
    """A closed box-shaped room: floor, ceiling and four walls, metres."""

    length_m: float
    width_m: float
    height_m: float

    def __post_init__(self) -> None:
        for name in ("length_m", "width_m", "height_m"):
            object.__setattr__(self, name, positive(f"Room.{name}", getattr(self, name)))

    @property
    def lower_m(self) -> FloatArray:
        """Lower corner (x, y, z) of the room, metres."""
        return np.array([-0.5 * self.length_m, -0.5 * self.width_m, 0.0])

    @property
    def upper_m(self) -> FloatArray:
        """Upper corner (x, y, z) of the room, metres."""
        return np.array([0.5 * self.length_m, 0.5 * self.width_m, self.height_m])

    def contains(self, points_m: FloatArray) -> bool:
        """Whether every point (N, 3) or (3,) lies inside the room (walls included)."""
        points = np.atleast_2d(points_m)
        return bool(np.all(points >= self.lower_m - _SLACK_M) and np.all(points <= self.upper_m + _SLACK_M))


@dataclass(frozen=True)
class SceneObject:
    """A labelled solid: "``colour`` ``category``" (e.g. "red chair"), its shape, rest pose and path."""

    id: int
    category: str
    colour: str
    shape: Shape
    centre_m: tuple[float, float, float]
    yaw_rad: float = 0.0
    path: Path | None = None

    def __post_init__(self) -> None:
        if isinstance(self.id, bool) or not isinstance(self.id, (int, np.integer)):
            raise ValueError(f"SceneObject.id must be an integer, got {self.id!r}")
        if not FIRST_OBJECT_ID <= self.id <= MAX_ID:
            raise ValueError(f"SceneObject.id must lie in [{FIRST_OBJECT_ID}, {MAX_ID}], got {self.id}")
        object.__setattr__(self, "id", int(self.id))
        if not isinstance(self.category, str) or not self.category.strip():
            raise ValueError(f"SceneObject.category must be a non-empty string, got {self.category!r}")
        colour_albedo(self.colour)
        if not isinstance(self.shape, (Box, Cylinder)):
            raise ValueError(f"SceneObject.shape must be a Box or a Cylinder, got {self.shape!r}")
        object.__setattr__(self, "centre_m", vector("SceneObject.centre_m", self.centre_m, 3))
        object.__setattr__(self, "yaw_rad", finite("SceneObject.yaw_rad", self.yaw_rad))
        if self.path is not None and not isinstance(self.path, (LinearPath, CircularPath)):
            raise ValueError(
                f"SceneObject.path must be a LinearPath, a CircularPath or None, got {self.path!r}"
            )

    @property
    def label(self) -> str:
        """The object's name: colour and category, e.g. "red chair"."""
        return f"{self.colour} {self.category}"

    @property
    def moving(self) -> bool:
        """Whether the object follows a path."""
        return self.path is not None

    def centre_at(self, t_s: float) -> FloatArray:
        """Centre (3,) at scene time ``t_s``, world metres."""
        if self.path is None:
            return np.asarray(self.centre_m)
        x, y = self.path.position_xy(t_s)
        return np.array([x, y, self.centre_m[2]])

    def velocity_at(self, t_s: float) -> FloatArray:
        """Velocity (3,) at scene time ``t_s``, world m/s (zero when static)."""
        if self.path is None:
            return np.zeros(3)
        vx, vy = self.path.velocity_xy(t_s)
        return np.array([vx, vy, 0.0])

    def yaw_at(self, t_s: float) -> float:
        """Yaw at scene time ``t_s``, radians: a moving box faces its direction of travel."""
        if self.path is None or isinstance(self.shape, Cylinder):
            return self.yaw_rad
        vx, vy = self.path.velocity_xy(t_s)
        return math.atan2(vy, vx)

    def truth(self, t_s: float) -> ObjectTruth:
        """The object's ground truth at scene time ``t_s``."""
        return ObjectTruth(
            id=self.id,
            label=self.label,
            category=self.category,
            colour=self.colour,
            shape=self.shape.kind,
            centre_m=tuple(float(v) for v in self.centre_at(t_s)),
            size_m=self.shape.extent_m,
            yaw_rad=self.yaw_at(t_s),
            moving=self.moving,
            velocity_mps=tuple(float(v) for v in self.velocity_at(t_s)),
        )

    def extreme_corners(self) -> FloatArray:
        """Corners (N, 3) of the object at every extreme of its path (its rest pose when static)."""
        if self.path is None:
            return self.shape.corners(np.asarray(self.centre_m), self.yaw_rad)
        if isinstance(self.path, LinearPath):
            stops = [self.path.start_xy, self.path.end_xy]
        else:
            cx, cy = self.path.centre_xy
            r = self.path.radius_m
            stops = [(cx + r, cy), (cx - r, cy), (cx, cy + r), (cx, cy - r)]
        reach = 0.5 * math.hypot(*self.shape.extent_m[:2])
        corners = []
        for x, y in stops:
            for dx, dy in ((-reach, -reach), (reach, reach)):
                for z in (-0.5 * self.shape.extent_m[2], 0.5 * self.shape.extent_m[2]):
                    corners.append((x + dx, y + dy, self.centre_m[2] + z))
        return np.array(corners)


@dataclass(frozen=True)
class Scene:
    """A room with objects and cameras: everything needed to render and to know the exact answers."""

    room: Room
    objects: tuple[SceneObject, ...]
    cameras: tuple[SimCamera, ...]
    kind: str = "custom"
    seed: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "objects", tuple(self.objects))
        object.__setattr__(self, "cameras", tuple(self.cameras))
        if not self.cameras:
            raise ValueError("Scene.cameras must hold at least one camera")
        _unique("object id", [item.id for item in self.objects])
        _unique("object label", [item.label for item in self.objects])
        _unique("camera name", [camera.name for camera in self.cameras])
        for item in self.objects:
            if not self.room.contains(item.extreme_corners()):
                raise ValueError(f"object {item.label!r} (or its path) leaves the room")
        for camera in self.cameras:
            if not self.room.contains(np.asarray(camera.position_m)):
                raise ValueError(f"camera {camera.name!r} stands outside the room")
            if camera.motion is not None:
                reach = np.abs(np.asarray(camera.motion.offset_m))
                for sign in (-1.0, 1.0):
                    if not self.room.contains(np.asarray(camera.position_m) + sign * reach):
                        raise ValueError(f"camera {camera.name!r} moves out of the room")

    def object(self, key: str | int) -> SceneObject:
        """The object with this label (e.g. "red chair") or id."""
        for item in self.objects:
            if key in (item.label, item.id):
                return item
        known = ", ".join(repr(item.label) for item in self.objects)
        raise KeyError(f"no object {key!r} in the scene; objects: {known}")

    def camera(self, name: str) -> SimCamera:
        """The camera with this name."""
        for camera in self.cameras:
            if camera.name == name:
                return camera
        known = ", ".join(repr(camera.name) for camera in self.cameras)
        raise KeyError(f"no camera {name!r} in the scene; cameras: {known}")

    def label_map(self) -> dict[int, str]:
        """Instance id → label of everything drawn: the room's surfaces and the objects."""
        labels = dict(STRUCTURE_LABELS)
        labels.update({item.id: item.label for item in self.objects})
        return labels

    def truth(self, t_s: float = 0.0) -> SceneTruth:
        """Ground truth of every object at scene time ``t_s``."""
        time_s = finite("t_s", t_s)
        return SceneTruth(t_s=time_s, objects=tuple(item.truth(time_s) for item in self.objects))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description from which :meth:`from_dict` rebuilds an equal scene."""
        return _plain(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scene:
        """Rebuild a scene from :meth:`to_dict` output (e.g. the published ground truth JSON)."""
        try:
            return cls(
                room=Room(**data["room"]),
                objects=tuple(_object_from_dict(item) for item in data["objects"]),
                cameras=tuple(_camera_from_dict(item) for item in data["cameras"]),
                kind=data["kind"],
                seed=data["seed"],
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a scene description: {error!r}") from None


def _unique(what: str, values: Sequence[object]) -> None:
    seen = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what}: {value!r}")
        seen.add(value)


def _plain(value: Any) -> Any:
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value) if f.init}
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    return value


def _shape_from_dict(data: Mapping[str, Any]) -> Shape:
    kinds = {"box": Box, "cylinder": Cylinder}
    if data.get("kind") not in kinds:
        raise ValueError(f"unknown shape kind {data.get('kind')!r}; known: box, cylinder")
    return kinds[data["kind"]](**data)


def _path_from_dict(data: Mapping[str, Any] | None) -> Path | None:
    if data is None:
        return None
    kinds = {"linear": LinearPath, "circular": CircularPath}
    if data.get("kind") not in kinds:
        raise ValueError(f"unknown path kind {data.get('kind')!r}; known: linear, circular")
    return kinds[data["kind"]](**data)


def _object_from_dict(data: Mapping[str, Any]) -> SceneObject:
    return SceneObject(
        **{**data, "shape": _shape_from_dict(data["shape"]), "path": _path_from_dict(data["path"])}
    )


def _camera_from_dict(data: Mapping[str, Any]) -> SimCamera:
    motion = data["motion"]
    return SimCamera(**{**data, "motion": None if motion is None else CameraMotion(**motion)})
