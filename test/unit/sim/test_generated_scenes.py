import numpy as np
import pytest

from spatialclaw_ros.sim import FIRST_OBJECT_ID, SCENE_KINDS, generate_scene, render, surface_distance

SEEDS = range(6)


@pytest.mark.parametrize("kind", SCENE_KINDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_every_scene_has_a_walking_person_and_distinct_labels(kind, seed):
    scene = generate_scene(seed=seed, kind=kind, cameras=("a", "b", "c"))
    truth = scene.truth(1.0)
    people = truth.by_category("person")
    assert len(people) == 1 and people[0].speed_mps > 0.0
    assert len({item.label for item in truth}) == len(truth) >= 5
    assert min(item.id for item in truth) == FIRST_OBJECT_ID


@pytest.mark.parametrize("kind", SCENE_KINDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_objects_stand_on_the_floor_or_on_each_other_without_overlap(kind, seed):
    truth = generate_scene(seed=seed, kind=kind).truth(0.0)
    on_floor = [item for item in truth if item.bottom_m == pytest.approx(0.0)]
    stacked = [item for item in truth if item not in on_floor]
    for index, a in enumerate(on_floor):
        for b in on_floor[index + 1 :]:
            assert surface_distance(a, b) > 0.0, (a.label, b.label)
    for item in stacked:
        supports = [other for other in on_floor if other.top_m == pytest.approx(item.bottom_m)]
        assert any(surface_distance(item, other) < 1e-9 for other in supports), item.label


@pytest.mark.parametrize("kind", SCENE_KINDS)
def test_each_camera_sees_several_objects(kind):
    scene = generate_scene(seed=2, kind=kind, cameras=("a", "b"), width=160, height=120)
    object_ids = {item.id for item in scene.objects}
    for camera in scene.cameras:
        visible = [
            i for i, n in render(scene, camera.name).pixel_counts().items() if i in object_ids and n >= 20
        ]
        assert len(visible) >= 2, camera.name


def test_a_scene_with_camera_motion_moves_its_cameras():
    scene = generate_scene(seed=0, camera_motion=True, width=64, height=48)
    camera = scene.camera("camera")
    assert not np.allclose(camera.T_world_camera(0.0), camera.T_world_camera(2.0))
