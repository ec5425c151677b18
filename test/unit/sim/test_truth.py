import json
import math

import pytest

from spatialclaw_ros.sim import (
    Box,
    Cylinder,
    GroundTruth,
    Room,
    Scene,
    SceneObject,
    SimCamera,
    centre_distance,
    generate_scene,
    height_above_floor,
    label_map_json,
    surface_distance,
)


def truth_of(*objects: SceneObject):
    room = Room(20.0, 20.0, 5.0)
    scene = Scene(room, objects, (SimCamera("camera", 8, 6, 1.0, (-9.0, -9.0, 1.0)),))
    return scene.truth(0.0)


def box(object_id, centre, size=(1.0, 1.0, 1.0), yaw=0.0, colour="red"):
    return SceneObject(object_id, "box", colour, Box(size), centre_m=centre, yaw_rad=yaw)


def cylinder(object_id, centre, radius=0.5, height=1.0, colour="blue"):
    return SceneObject(object_id, "bin", colour, Cylinder(radius, height), centre_m=centre)


def test_boxes_side_by_side_are_their_gap_apart():
    truth = truth_of(box(10, (0.0, 0.0, 0.5)), box(11, (2.5, 0.0, 0.5), colour="green"))
    assert surface_distance(truth[10], truth[11]) == pytest.approx(1.5)
    assert centre_distance(truth[10], truth[11]) == pytest.approx(2.5)


def test_boxes_offset_diagonally_are_corner_to_corner_apart():
    truth = truth_of(box(10, (0.0, 0.0, 0.5)), box(11, (2.0, 3.0, 2.5), colour="green"))
    assert surface_distance(truth[10], truth[11]) == pytest.approx(math.sqrt(1.0 + 4.0 + 1.0))


def test_a_turned_box_is_nearer_by_half_its_diagonal():
    truth = truth_of(box(10, (0.0, 0.0, 0.5), yaw=math.pi / 4), box(11, (3.0, 0.0, 0.5), colour="green"))
    assert surface_distance(truth[10], truth[11]) == pytest.approx(2.5 - math.sqrt(0.5))


def test_overlapping_and_stacked_objects_touch():
    truth = truth_of(
        box(10, (0.0, 0.0, 0.5)),
        box(11, (0.5, 0.5, 0.5), colour="green"),
        box(12, (0.0, 0.0, 1.25), (0.5, 0.5, 0.5), colour="blue"),
    )
    assert surface_distance(truth[10], truth[11]) == 0.0
    assert surface_distance(truth[10], truth[12]) == 0.0
    assert height_above_floor(truth[12]) == pytest.approx(1.5)


def test_cylinder_gaps_are_exact():
    truth = truth_of(
        cylinder(10, (0.0, 0.0, 0.5)), cylinder(11, (3.0, 4.0, 0.5), colour="red"), box(12, (0.0, 3.0, 0.5))
    )
    assert surface_distance(truth[10], truth[11]) == pytest.approx(4.0)
    assert surface_distance(truth[10], truth[12]) == pytest.approx(2.0)
    assert surface_distance(truth[11], truth[12]) == pytest.approx(math.sqrt(2.5**2 + 0.5**2) - 0.5)


def test_truth_is_indexed_by_label_id_and_category():
    truth = truth_of(box(10, (0.0, 0.0, 0.5)), cylinder(11, (3.0, 0.0, 0.5)))
    assert truth["red box"] is truth[10]
    assert truth.count("bin") == 1
    with pytest.raises(KeyError, match="red box"):
        truth["purple sofa"]


def test_a_scene_survives_a_json_round_trip():
    scene = generate_scene(seed=11, kind="warehouse", cameras=("a", "b", "c"), camera_motion=True)
    assert Scene.from_dict(json.loads(json.dumps(scene.to_dict()))) == scene


def test_a_broken_scene_description_is_rejected():
    data = generate_scene(seed=1).to_dict()
    del data["room"]
    with pytest.raises(ValueError, match="not a scene description"):
        Scene.from_dict(data)


def test_the_published_ground_truth_rebuilds_the_scene_and_its_clock():
    scene = generate_scene(seed=3, cameras=("front", "left"))
    published = GroundTruth(scene, "map", 1_700_000_000.25, {"front": "front_optical_frame"})
    received = GroundTruth.from_json(published.to_json())
    assert received == published
    assert received.scene_time_s(1_700_000_002.75) == pytest.approx(2.5)
    assert json.loads(label_map_json(scene)) == {str(k): v for k, v in scene.label_map().items()}


def test_text_that_is_not_ground_truth_is_rejected():
    with pytest.raises(ValueError, match="not a ground-truth document"):
        GroundTruth.from_json('{"world_frame": "map"}')
