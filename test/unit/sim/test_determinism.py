import numpy as np

from spatialclaw_ros.sim import DepthNoise, add_depth_noise, generate_scene, render


def test_the_same_seed_gives_the_same_scene_and_images():
    first = generate_scene(seed=7, kind="warehouse", cameras=("a", "b"), width=96, height=72)
    second = generate_scene(seed=7, kind="warehouse", cameras=("a", "b"), width=96, height=72)
    assert first == second
    one, two = render(first, "b", t_s=3.5), render(second, "b", t_s=3.5)
    np.testing.assert_array_equal(one.rgb, two.rgb)
    np.testing.assert_array_equal(one.depth_m, two.depth_m)
    np.testing.assert_array_equal(one.labels, two.labels)


def test_different_seeds_give_different_scenes():
    scenes = [generate_scene(seed=seed, width=96, height=72) for seed in range(5)]
    assert len({repr(scene.room) for scene in scenes}) == 5


def test_the_same_noise_seed_gives_the_same_noisy_depth():
    view = render(generate_scene(seed=1, width=96, height=72), "camera")
    noisy = [
        add_depth_noise(view.depth_m, view.incidence_cos, DepthNoise(), np.random.default_rng(3))
        for _ in range(2)
    ]
    np.testing.assert_array_equal(noisy[0], noisy[1])
