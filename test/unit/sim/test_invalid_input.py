import math

import pytest

from spatialclaw_ros.sim import (
    Box,
    CircularPath,
    Cylinder,
    LinearPath,
    Room,
    Scene,
    SceneObject,
    SimCamera,
    generate_scene,
    render,
)


def camera(position=(0.0, 0.0, 1.0), name="camera"):
    return SimCamera(name, 8, 6, 1.0, position)


def chair(object_id=10, centre=(0.0, 0.0, 0.5), colour="red"):
    return SceneObject(object_id, "chair", colour, Box((0.5, 0.5, 1.0)), centre_m=centre)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Box((1.0, 0.0, 1.0)), "size_m"),
        (lambda: Box((1.0, 1.0)), "3 entries"),
        (lambda: Cylinder(math.inf, 1.0), "radius_m"),
        (lambda: LinearPath((0.0, 0.0), (0.0, 0.0), 1.0), "must differ"),
        (lambda: CircularPath((0.0, 0.0), 1.0, 0.0), "speed_mps"),
        (lambda: SceneObject(10, "chair", "mauve", Box((1.0, 1.0, 1.0)), (0.0, 0.0, 0.5)), "unknown colour"),
        (lambda: SceneObject(3, "chair", "red", Box((1.0, 1.0, 1.0)), (0.0, 0.0, 0.5)), "id"),
        (lambda: SimCamera("front camera", 8, 6, 1.0, (0.0, 0.0, 1.0)), "name"),
        (lambda: SimCamera("front", 8, 6, math.pi, (0.0, 0.0, 1.0)), "hfov_rad"),
        (lambda: SimCamera("front", 8, 6, 1.0, (0.0, 0.0, 1.0), pitch_rad=2.0), "pitch_rad"),
        (lambda: SimCamera("front", 0, 6, 1.0, (0.0, 0.0, 1.0)), "width"),
        (lambda: Room(5.0, -1.0, 3.0), "width_m"),
    ],
)
def test_invalid_parts_are_rejected_by_name(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize(
    ("objects", "cameras", "message"),
    [
        ((chair(centre=(4.9, 0.0, 0.5)),), (camera(),), "leaves the room"),
        ((chair(), chair(11, (2.0, 0.0, 0.5))), (camera(),), "duplicate object label"),
        ((chair(), chair(10, (2.0, 0.0, 0.5), "blue")), (camera(),), "duplicate object id"),
        ((), (camera((6.0, 0.0, 1.0)),), "outside the room"),
        ((), (camera(), camera((1.0, 0.0, 1.0))), "duplicate camera name"),
        ((), (), "at least one camera"),
    ],
)
def test_an_impossible_scene_is_rejected(objects, cameras, message):
    with pytest.raises(ValueError, match=message):
        Scene(Room(10.0, 10.0, 3.0), objects, cameras)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"kind": "forest"}, "known kinds: room, warehouse"),
        ({"cameras": [f"c{i}" for i in range(9)]}, "1 to 8 cameras"),
        ({"hfov_deg": 0.0}, "hfov_deg"),
    ],
)
def test_impossible_generator_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate_scene(**kwargs)


def test_unknown_cameras_and_objects_name_the_known_ones():
    scene = generate_scene(seed=0, cameras=("front",), width=8, height=6)
    with pytest.raises(KeyError, match="'front'"):
        render(scene, "back")
    with pytest.raises(KeyError, match="person"):
        scene.object("green giraffe")


def test_a_non_finite_time_is_rejected():
    scene = generate_scene(seed=0, width=8, height=6)
    with pytest.raises(ValueError, match="t_s"):
        render(scene, "camera", t_s=math.nan)
