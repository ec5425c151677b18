"""Procedural indoor scenes, deterministic by seed: furniture-like boxes and cylinders, movers, cameras.

Convention:
    The same (seed, kind, cameras, resolution, field of view, camera motion) always gives an equal
    scene. Objects stand on the floor or on top of a supporting object (a box on a table); moving
    objects follow paths kept clear of the furniture and of the cameras. Cameras stand in the
    corners of the room (then at the middle of the walls), looking at the middle of the room.
    Positions and sizes are rounded to centimetres so that the ground truth reads cleanly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spatialclaw_ros.sim._camera import CameraMotion, SimCamera
from spatialclaw_ros.sim._checks import positive
from spatialclaw_ros.sim._colours import OBJECT_COLOURS
from spatialclaw_ros.sim._paths import CircularPath, LinearPath, Path
from spatialclaw_ros.sim._scene import FIRST_OBJECT_ID, Room, Scene, SceneObject
from spatialclaw_ros.sim._shapes import Box, Cylinder, Shape

Range = tuple[float, float]


@dataclass(frozen=True)
class _Category:
    name: str
    shape: str
    dims: tuple[Range, ...]  # box: size x, y, z; cylinder: radius, height
    weight: float = 1.0
    stackable: bool = False
    support: bool = False


@dataclass(frozen=True)
class _Kind:
    length_m: Range
    width_m: Range
    height_m: Range
    camera_height_m: Range
    static_count: tuple[int, int]
    statics: tuple[_Category, ...]
    walker: _Category
    walker_speed_mps: Range
    rover: _Category
    rover_probability: float
    rover_speed_mps: Range


_KINDS: dict[str, _Kind] = {
    "room": _Kind(
        length_m=(6.0, 9.0),
        width_m=(5.0, 7.0),
        height_m=(2.6, 3.0),
        camera_height_m=(1.3, 1.7),
        static_count=(5, 8),
        statics=(
            _Category("chair", "box", ((0.45, 0.55), (0.45, 0.55), (0.8, 1.0)), weight=3.0),
            _Category("table", "box", ((1.0, 1.6), (0.6, 0.9), (0.7, 0.78)), weight=2.0, support=True),
            _Category("cabinet", "box", ((0.8, 1.2), (0.4, 0.5), (1.0, 1.9)), support=True),
            _Category("sofa", "box", ((1.6, 2.2), (0.8, 0.95), (0.7, 0.9))),
            _Category("box", "box", ((0.3, 0.5), (0.3, 0.5), (0.25, 0.45)), weight=2.0, stackable=True),
            _Category("bin", "cylinder", ((0.15, 0.25), (0.4, 0.7))),
            _Category("stool", "cylinder", ((0.17, 0.22), (0.45, 0.7))),
            _Category("floor lamp", "cylinder", ((0.1, 0.15), (1.4, 1.8))),
        ),
        walker=_Category("person", "cylinder", ((0.22, 0.28), (1.6, 1.85))),
        walker_speed_mps=(0.5, 1.2),
        rover=_Category("robot", "box", ((0.5, 0.6), (0.4, 0.5), (0.3, 0.5))),
        rover_probability=0.5,
        rover_speed_mps=(0.3, 0.6),
    ),
    "warehouse": _Kind(
        length_m=(12.0, 16.0),
        width_m=(8.0, 12.0),
        height_m=(4.0, 5.0),
        camera_height_m=(2.5, 3.2),
        static_count=(7, 11),
        statics=(
            _Category("shelf", "box", ((1.8, 2.5), (0.5, 0.6), (2.0, 3.0)), weight=2.0),
            _Category("crate", "box", ((0.6, 1.2), (0.6, 1.2), (0.5, 1.0)), weight=3.0, support=True),
            _Category("pallet", "box", ((1.2, 1.2), (0.8, 1.0), (0.14, 0.16)), support=True),
            _Category("box", "box", ((0.3, 0.5), (0.3, 0.5), (0.25, 0.45)), weight=2.0, stackable=True),
            _Category("barrel", "cylinder", ((0.28, 0.32), (0.85, 0.95)), weight=2.0),
            _Category("bollard", "cylinder", ((0.08, 0.12), (0.8, 1.1))),
        ),
        walker=_Category("person", "cylinder", ((0.22, 0.28), (1.6, 1.85))),
        walker_speed_mps=(0.6, 1.5),
        rover=_Category("robot", "box", ((0.7, 0.9), (0.5, 0.7), (0.4, 0.6))),
        rover_probability=0.7,
        rover_speed_mps=(0.5, 1.0),
    ),
}

SCENE_KINDS: tuple[str, ...] = tuple(_KINDS)
MAX_CAMERAS = 8

_WALL_MARGIN_M = 0.1
_GAP_M = 0.15
# Furniture keeps clear of the cameras so that it does not fill their view; people may pass closer.
_CAMERA_CLEARANCE_M = 1.2
_MOVER_CAMERA_CLEARANCE_M = 0.5
_CAMERA_INSET_M = 0.4
_STACK_PROBABILITY = 0.5
_ATTEMPTS = 200


def generate_scene(
    seed: int = 0,
    kind: str = "room",
    cameras: Sequence[str] = ("camera",),
    width: int = 640,
    height: int = 480,
    hfov_deg: float = 70.0,
    camera_motion: bool = False,
) -> Scene:
    """A procedural scene of ``kind`` (one of ``SCENE_KINDS``), the same for the same arguments.

    ``cameras`` names up to ``MAX_CAMERAS`` cameras of ``width`` × ``height`` pixels and horizontal
    field of view ``hfov_deg`` degrees; with ``camera_motion`` each camera sways along its wall and
    pans (see ``CameraMotion``). Every scene has a walking person on a straight back-and-forth path;
    some also have a robot driving in a circle.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if kind not in _KINDS:
        raise ValueError(f"unknown scene kind {kind!r}; known kinds: {', '.join(SCENE_KINDS)}")
    names = list(cameras)
    if not 1 <= len(names) <= MAX_CAMERAS:
        raise ValueError(f"cameras must name 1 to {MAX_CAMERAS} cameras, got {len(names)}")
    hfov_rad = math.radians(positive("hfov_deg", hfov_deg))
    spec = _KINDS[kind]
    rng = np.random.default_rng([int(seed), SCENE_KINDS.index(kind)])
    room = Room(_draw(rng, spec.length_m), _draw(rng, spec.width_m), _draw(rng, spec.height_m))
    cams = [
        _place_camera(rng, spec, room, name, index, width, height, hfov_rad, camera_motion)
        for index, name in enumerate(names)
    ]
    layout = _Layout(room, [np.asarray(cam.position_m[:2]) for cam in cams])
    movers = _movers(rng, spec, layout)
    statics = _statics(rng, spec, layout)
    objects = [
        SceneObject(id=FIRST_OBJECT_ID + index, **fields)
        for index, fields in enumerate(_with_colours(rng, statics + movers))
    ]
    return Scene(room=room, objects=tuple(objects), cameras=tuple(cams), kind=kind, seed=int(seed))


def _draw(rng: np.random.Generator, bounds: Range) -> float:
    return round(float(rng.uniform(*bounds)), 2)


def _draw_xy(rng: np.random.Generator, room: Room, fraction: float) -> np.ndarray:
    """A point on the floor within ``fraction`` of the room's half-extents of its centre, centimetres."""
    return np.array(
        [
            round(float(rng.uniform(-fraction, fraction)) * room.length_m, 2),
            round(float(rng.uniform(-fraction, fraction)) * room.width_m, 2),
        ]
    )


def _place_camera(
    rng: np.random.Generator,
    spec: _Kind,
    room: Room,
    name: str,
    index: int,
    width: int,
    height: int,
    hfov_rad: float,
    camera_motion: bool,
) -> SimCamera:
    hx, hy = 0.5 * room.length_m - _CAMERA_INSET_M, 0.5 * room.width_m - _CAMERA_INSET_M
    anchors = [(-hx, -hy), (hx, hy), (hx, -hy), (-hx, hy), (0.0, -hy), (0.0, hy), (-hx, 0.0), (hx, 0.0)]
    x, y = anchors[index]
    position = (x, y, _draw(rng, spec.camera_height_m))
    target = (_draw(rng, (-0.5, 0.5)), _draw(rng, (-0.5, 0.5)), 0.5)
    motion = None
    if camera_motion:
        along_wall = (0.3, 0.0, 0.0) if y != 0.0 else (0.0, 0.3, 0.0)
        motion = CameraMotion(
            offset_m=along_wall, yaw_rad=math.radians(10.0), period_s=_draw(rng, (8.0, 12.0))
        )
    return SimCamera.looking_at(name, position, target, width, height, hfov_rad, motion)


class _Layout:
    """Floor space taken so far: discs of placed objects, the movers' paths, the cameras."""

    def __init__(self, room: Room, cameras_xy: list[np.ndarray]) -> None:
        self.room = room
        self.cameras_xy = cameras_xy
        self.discs: list[tuple[np.ndarray, float]] = []
        self.paths: list[tuple[np.ndarray, float]] = []  # points sampled along each path, clearance

    def inside(self, xy: np.ndarray, reach: float) -> bool:
        limit = np.array([0.5 * self.room.length_m, 0.5 * self.room.width_m]) - reach - _WALL_MARGIN_M
        return bool(np.all(np.abs(xy) <= limit))

    def free(
        self, points_xy: np.ndarray, reach: float, camera_clearance: float = _CAMERA_CLEARANCE_M
    ) -> bool:
        points = np.atleast_2d(points_xy)
        for camera in self.cameras_xy:
            if np.min(np.linalg.norm(points - camera, axis=1)) < reach + camera_clearance:
                return False
        for centre, radius in self.discs:
            if np.min(np.linalg.norm(points - centre, axis=1)) < reach + radius + _GAP_M:
                return False
        for samples, clearance in self.paths:
            gaps = np.linalg.norm(points[:, None, :] - samples[None, :, :], axis=2)
            if np.min(gaps) < reach + clearance + _GAP_M:
                return False
        return True


def _shape(rng: np.random.Generator, category: _Category) -> Shape:
    dims = [_draw(rng, bounds) for bounds in category.dims]
    return Box(tuple(dims)) if category.shape == "box" else Cylinder(*dims)


def _reach(shape: Shape) -> float:
    return 0.5 * math.hypot(*shape.extent_m[:2])


def _movers(rng: np.random.Generator, spec: _Kind, layout: _Layout) -> list[dict]:
    movers = []
    walker = _shape(rng, spec.walker)
    reach = _reach(walker)
    for _ in range(_ATTEMPTS):
        start, end = _draw_xy(rng, layout.room, 0.5), _draw_xy(rng, layout.room, 0.5)
        samples = np.linspace(start, end, 32)
        if (
            np.linalg.norm(end - start) >= 0.4 * layout.room.length_m
            and layout.inside(start, reach)
            and layout.inside(end, reach)
            and layout.free(samples, reach, _MOVER_CAMERA_CLEARANCE_M)
        ):
            path: Path = LinearPath(
                tuple(start),
                tuple(end),
                _draw(rng, spec.walker_speed_mps),
                offset_m=_draw(rng, (0.0, float(np.linalg.norm(end - start)))),
            )
            layout.paths.append((samples, reach))
            movers.append(
                _fields(spec.walker, walker, (*path.position_xy(0.0), 0.5 * walker.extent_m[2]), 0.0, path)
            )
            break
    else:
        raise RuntimeError(f"found no free path for the walking person in a {layout.room}")
    if rng.random() >= spec.rover_probability:
        return movers
    rover = _shape(rng, spec.rover)
    reach = _reach(rover)
    for _ in range(_ATTEMPTS):
        radius = _draw(rng, (0.8, 1.5))
        centre = _draw_xy(rng, layout.room, 0.4)
        angles = np.linspace(0.0, 2.0 * math.pi, 48, endpoint=False)
        samples = centre + radius * np.column_stack([np.cos(angles), np.sin(angles)])
        if layout.inside(centre, radius + reach) and layout.free(samples, reach, _MOVER_CAMERA_CLEARANCE_M):
            speed = _draw(rng, spec.rover_speed_mps) * (1.0 if rng.random() < 0.5 else -1.0)
            path = CircularPath(
                tuple(centre), radius, speed, phase_rad=round(float(rng.uniform(-3.14, 3.14)), 2)
            )
            layout.paths.append((samples, reach))
            movers.append(
                _fields(spec.rover, rover, (*path.position_xy(0.0), 0.5 * rover.extent_m[2]), 0.0, path)
            )
            break
    return movers


def _statics(rng: np.random.Generator, spec: _Kind, layout: _Layout) -> list[dict]:
    weights = np.array([category.weight for category in spec.statics])
    count = int(rng.integers(spec.static_count[0], spec.static_count[1] + 1))
    placed: list[dict] = []
    supports: list[dict] = []
    drawn = [
        spec.statics[int(i)] for i in rng.choice(len(spec.statics), size=count, p=weights / weights.sum())
    ]
    # Supports first, so that the small things drawn later can stand on them.
    for category in sorted(drawn, key=lambda category: not category.support):
        shape = _shape(rng, category)
        yaw = 0.0 if rng.random() < 0.5 else round(float(rng.uniform(0.0, math.pi)), 2)
        if category.stackable and supports and rng.random() < _STACK_PROBABILITY:
            support = supports.pop(int(rng.integers(len(supports))))
            if _fits_on(shape, support["shape"], layout.room):
                top = support["centre_m"][2] + 0.5 * support["shape"].extent_m[2]
                x, y = support["centre_m"][:2]
                placed.append(
                    _fields(category, shape, (x, y, top + 0.5 * shape.extent_m[2]), support["yaw_rad"])
                )
                continue
        reach = _reach(shape)
        for _ in range(_ATTEMPTS):
            xy = _draw_xy(rng, layout.room, 0.5)
            if layout.inside(xy, reach) and layout.free(xy, reach):
                layout.discs.append((xy, reach))
                item = _fields(category, shape, (*xy, 0.5 * shape.extent_m[2]), yaw)
                placed.append(item)
                if category.support:
                    supports.append(item)
                break
    return placed


def _fits_on(item: Shape, support: Shape, room: Room) -> bool:
    below = support.extent_m
    return (
        item.extent_m[0] <= below[0]
        and item.extent_m[1] <= below[1]
        and below[2] + item.extent_m[2] <= room.height_m - 0.2
    )


def _fields(
    category: _Category, shape: Shape, centre: Sequence[float], yaw: float, path: Path | None = None
) -> dict:
    return {
        "category": category.name,
        "shape": shape,
        "centre_m": tuple(round(float(v), 4) for v in centre),
        "yaw_rad": yaw,
        "path": path,
    }


def _with_colours(rng: np.random.Generator, items: list[dict]) -> list[dict]:
    """Give every item a colour not yet used by its category, so that labels are unique."""
    used: dict[str, set[str]] = {}
    coloured = []
    for item in items:
        taken = used.setdefault(item["category"], set())
        free = [name for name in OBJECT_COLOURS if name not in taken]
        if not free:
            continue
        colour = free[int(rng.integers(len(free)))]
        taken.add(colour)
        coloured.append({**item, "colour": colour})
    return coloured
