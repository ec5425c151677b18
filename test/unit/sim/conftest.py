"""Small hand-built scenes whose renders have closed-form answers."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pytest

from spatialclaw_ros.sim import Room, Scene, SceneObject, SimCamera

# Odd sizes put the principal point on a pixel centre: ((161 - 1) / 2, (121 - 1) / 2) = (80, 60).
WIDTH, HEIGHT = 161, 121
HFOV_RAD = math.radians(60.0)


@pytest.fixture
def big_room() -> Room:
    """A 20 m cube standing on the floor: x and y in [-10, 10], z in [0, 20]."""
    return Room(length_m=20.0, width_m=20.0, height_m=20.0)


@pytest.fixture
def east_camera() -> SimCamera:
    """A level camera at (0, 0, 10) looking along world +x (east)."""
    return SimCamera("front", WIDTH, HEIGHT, HFOV_RAD, position_m=(0.0, 0.0, 10.0))


@pytest.fixture
def make_scene(big_room: Room, east_camera: SimCamera) -> Callable[..., Scene]:
    """Build a scene in ``big_room`` seen by ``east_camera`` (or the given cameras)."""

    def build(objects: Sequence[SceneObject] = (), cameras: Sequence[SimCamera] | None = None) -> Scene:
        return Scene(room=big_room, objects=tuple(objects), cameras=tuple(cameras or (east_camera,)))

    return build
