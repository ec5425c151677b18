import numpy as np

from spatialclaw_ros.sim import OBJECT_COLOURS, STRUCTURE_LABELS, generate_scene, render


def test_every_label_id_in_the_image_is_in_the_label_map():
    scene = generate_scene(seed=4, width=160, height=120)
    view = render(scene, "camera", t_s=2.0)
    label_map = scene.label_map()
    assert set(view.pixel_counts()) <= set(label_map)
    assert {item.id: item.label for item in scene.objects}.items() <= label_map.items()
    assert STRUCTURE_LABELS.items() <= label_map.items()


def test_labelled_pixels_have_the_colour_their_label_names():
    scene = generate_scene(seed=4, width=160, height=120)
    view = render(scene, "camera", t_s=2.0)
    checked = 0
    for object_id, count in view.pixel_counts().items():
        if object_id not in {item.id for item in scene.objects} or count < 50:
            continue
        albedo = np.asarray(OBJECT_COLOURS[scene.object(object_id).colour])
        if albedo.max() - albedo.min() < 0.1:
            continue
        # Shading scales all channels alike before gamma, so the linear colour is parallel to the albedo.
        linear = (view.rgb[view.labels == object_id].astype(float) / 255.0) ** 2.2
        direction = np.median(linear / np.linalg.norm(linear, axis=1, keepdims=True), axis=0)
        assert np.dot(direction / np.linalg.norm(direction), albedo / np.linalg.norm(albedo)) > 0.995
        checked += 1
    assert checked >= 2
