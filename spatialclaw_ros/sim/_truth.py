"""Ground truth of a scene at one moment, and the exact answers to spatial questions about it.

Convention:
    World frame REP-103 (x east, y north, z up); the floor is the plane z = 0. Lengths in metres,
    angles in radians (counter-clockwise from world +x), speeds in m/s, times in scene seconds.
    ``size_m`` is the extent (x, y, z) of an object along its own axes (a cylinder: (2r, 2r, h));
    ``yaw_rad`` turns those axes about world z. Every object is a right prism (a box turned about z,
    or a vertical cylinder), so distances between surfaces are exact, not sampled.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from spatialclaw_ros.sim._checks import FloatArray


@dataclass(frozen=True)
class ObjectTruth:
    """One object at one moment: identity, pose, size, and motion (zero velocity when static)."""

    id: int
    label: str
    category: str
    colour: str
    shape: Literal["box", "cylinder"]
    centre_m: tuple[float, float, float]
    size_m: tuple[float, float, float]
    yaw_rad: float
    moving: bool
    velocity_mps: tuple[float, float, float]

    @property
    def speed_mps(self) -> float:
        """Speed, m/s."""
        return math.hypot(*self.velocity_mps)

    @property
    def heading_rad(self) -> float | None:
        """Direction of travel, radians counter-clockwise from world +x; None when not moving."""
        if self.speed_mps == 0.0:
            return None
        return math.atan2(self.velocity_mps[1], self.velocity_mps[0])

    @property
    def top_m(self) -> float:
        """Height of the object's top above the floor, metres."""
        return self.centre_m[2] + 0.5 * self.size_m[2]

    @property
    def bottom_m(self) -> float:
        """Height of the object's bottom above the floor, metres."""
        return self.centre_m[2] - 0.5 * self.size_m[2]

    def footprint_xy(self) -> FloatArray:
        """Footprint corners (4, 2) counter-clockwise, world metres (a cylinder: its bounding square)."""
        c, s = math.cos(self.yaw_rad), math.sin(self.yaw_rad)
        hx, hy = 0.5 * self.size_m[0], 0.5 * self.size_m[1]
        local = np.array([[-hx, -hy], [hx, -hy], [hx, hy], [-hx, hy]])
        return local @ np.array([[c, s], [-s, c]]) + np.asarray(self.centre_m[:2])

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dictionary of the fields, with speed and heading added."""
        data: dict[str, object] = asdict(self)
        data["speed_mps"] = self.speed_mps
        data["heading_rad"] = self.heading_rad
        data["top_m"] = self.top_m
        return data


@dataclass(frozen=True)
class SceneTruth:
    """Every object of a scene at scene time ``t_s``; index it by label or id."""

    t_s: float
    objects: tuple[ObjectTruth, ...]

    def __iter__(self) -> Iterator[ObjectTruth]:
        return iter(self.objects)

    def __len__(self) -> int:
        return len(self.objects)

    def __getitem__(self, key: str | int) -> ObjectTruth:
        for item in self.objects:
            if key in (item.label, item.id):
                return item
        known = ", ".join(repr(item.label) for item in self.objects)
        raise KeyError(f"no object {key!r} in the scene; objects: {known}")

    def by_category(self, category: str) -> tuple[ObjectTruth, ...]:
        """The objects of one category (e.g. "chair")."""
        return tuple(item for item in self.objects if item.category == category)

    def count(self, category: str) -> int:
        """How many objects of one category the scene holds."""
        return len(self.by_category(category))

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dictionary: the time and every object."""
        return {"t_s": self.t_s, "objects": [item.to_dict() for item in self.objects]}


def centre_distance(a: ObjectTruth, b: ObjectTruth) -> float:
    """Euclidean distance between the centres of two objects, metres."""
    return math.dist(a.centre_m, b.centre_m)


def horizontal_distance(a: ObjectTruth, b: ObjectTruth) -> float:
    """Distance between the centres of two objects projected on the floor, metres."""
    return math.dist(a.centre_m[:2], b.centre_m[:2])


def surface_distance(a: ObjectTruth, b: ObjectTruth) -> float:
    """Shortest distance between the surfaces of two objects, metres (0 when they touch or overlap).

    Both objects are right prisms over their footprints, so the gap is exactly
    ``hypot(footprint gap on the floor, vertical gap)``.
    """
    vertical = max(0.0, a.bottom_m - b.top_m, b.bottom_m - a.top_m)
    return math.hypot(_footprint_gap(a, b), vertical)


def height_above_floor(item: ObjectTruth) -> float:
    """Height of an object's top above the floor (z = 0), metres."""
    return item.top_m


def _footprint_gap(a: ObjectTruth, b: ObjectTruth) -> float:
    if a.shape == "cylinder" and b.shape == "cylinder":
        return max(0.0, horizontal_distance(a, b) - 0.5 * a.size_m[0] - 0.5 * b.size_m[0])
    if a.shape == "cylinder" or b.shape == "cylinder":
        disc, box = (a, b) if a.shape == "cylinder" else (b, a)
        gap = _point_polygon_distance(np.asarray(disc.centre_m[:2]), box.footprint_xy())
        return max(0.0, gap - 0.5 * disc.size_m[0])
    pa, pb = a.footprint_xy(), b.footprint_xy()
    if _polygons_overlap(pa, pb):
        return 0.0
    return min(
        min(_point_polygon_distance(p, pb) for p in pa),
        min(_point_polygon_distance(p, pa) for p in pb),
    )


def _point_polygon_distance(point: FloatArray, polygon: FloatArray) -> float:
    """Distance from a point to a convex counter-clockwise polygon (0 inside)."""
    starts, ends = polygon, np.roll(polygon, -1, axis=0)
    edges = ends - starts
    to_point = point - starts
    cross = edges[:, 0] * to_point[:, 1] - edges[:, 1] * to_point[:, 0]
    if np.all(cross >= 0.0):
        return 0.0
    along = np.clip(np.sum(to_point * edges, axis=1) / np.sum(edges * edges, axis=1), 0.0, 1.0)
    nearest = starts + along[:, None] * edges
    return float(np.min(np.linalg.norm(point - nearest, axis=1)))


def _polygons_overlap(pa: FloatArray, pb: FloatArray) -> bool:
    """Separating-axis test for two convex polygons (touching counts as overlapping)."""
    for polygon in (pa, pb):
        edges = np.roll(polygon, -1, axis=0) - polygon
        for normal in np.column_stack([-edges[:, 1], edges[:, 0]]):
            ra, rb = pa @ normal, pb @ normal
            if ra.max() < rb.min() or rb.max() < ra.min():
                return False
    return True
