import math

import numpy as np
import pytest

from spatialclaw_ros.sim import Box, DepthNoise, SceneObject, add_depth_noise, render

ONLY_GAUSSIAN = DepthNoise(hole_fraction=0.0, grazing_cos=0.0, edge_mix_fraction=0.0, quantisation_m=0.0)


def flat(depth_m: float, shape=(120, 160)) -> tuple[np.ndarray, np.ndarray]:
    return np.full(shape, depth_m, dtype=np.float32), np.ones(shape, dtype=np.float32)


@pytest.mark.parametrize("depth_m", [1.0, 2.0, 4.0])
def test_the_depth_error_grows_with_the_square_of_the_range(depth_m):
    noisy = add_depth_noise(*flat(depth_m), ONLY_GAUSSIAN, np.random.default_rng(0))
    expected_sigma = ONLY_GAUSSIAN.sigma_at_1m_m * depth_m**2
    assert math.isclose(float(np.std(noisy - depth_m)), expected_sigma, rel_tol=0.05)
    assert abs(float(np.mean(noisy - depth_m))) < 4 * expected_sigma / math.sqrt(noisy.size)


def test_quantised_depth_lies_on_millimetres():
    noisy = add_depth_noise(*flat(2.0), DepthNoise(hole_fraction=0.0), np.random.default_rng(1))
    millimetres = noisy.astype(np.float64) * 1000.0
    np.testing.assert_allclose(millimetres, np.round(millimetres), atol=1e-3)
    assert len(np.unique(noisy)) > 10


def test_random_holes_drop_the_requested_fraction():
    noise = DepthNoise(sigma_at_1m_m=0.0, hole_fraction=0.05, edge_mix_fraction=0.0)
    noisy = add_depth_noise(*flat(2.0), noise, np.random.default_rng(2))
    assert math.isclose(float(np.isnan(noisy).mean()), 0.05, rel_tol=0.15)
    np.testing.assert_allclose(noisy[~np.isnan(noisy)], 2.0)


def test_grazing_and_out_of_range_pixels_are_holes():
    depth, incidence = flat(2.0)
    incidence[:, :40] = 0.05
    depth[:10] = 12.0
    noise = DepthNoise(
        sigma_at_1m_m=0.0, hole_fraction=0.0, edge_mix_fraction=0.0, grazing_cos=0.1, max_range_m=10.0
    )
    noisy = add_depth_noise(depth, incidence, noise, np.random.default_rng(3))
    expected = np.zeros(depth.shape, dtype=bool)
    expected[:, :40] = True
    expected[:10] = True
    np.testing.assert_array_equal(np.isnan(noisy), expected)


def test_mixed_pixels_appear_only_at_depth_edges_between_the_two_surfaces(make_scene):
    box = SceneObject(10, "box", "red", Box((0.4, 1.0, 0.6)), centre_m=(3.2, 0.3, 10.0))
    view = render(make_scene([box]), "front")
    noise = DepthNoise(
        sigma_at_1m_m=0.0, hole_fraction=0.0, grazing_cos=0.0, edge_mix_fraction=1.0, quantisation_m=0.0
    )
    noisy = add_depth_noise(view.depth_m, view.incidence_cos, noise, np.random.default_rng(4))
    changed = noisy != view.depth_m
    edge = np.zeros_like(changed)
    on_box = view.labels == 10
    edge[:, 1:] |= on_box[:, 1:] != on_box[:, :-1]
    edge[:, :-1] |= on_box[:, 1:] != on_box[:, :-1]
    edge[1:] |= on_box[1:] != on_box[:-1]
    edge[:-1] |= on_box[1:] != on_box[:-1]
    assert changed.sum() > 20
    assert np.all(edge[changed])
    assert np.all((noisy[changed] >= 3.0) & (noisy[changed] <= view.depth_m.max()))


def test_the_clean_render_has_no_holes(make_scene):
    assert np.all(np.isfinite(render(make_scene(), "front").depth_m))


@pytest.mark.parametrize(
    ("field", "value"),
    [("hole_fraction", 1.5), ("sigma_at_1m_m", -1.0), ("max_range_m", 0.0), ("quantisation_m", math.nan)],
)
def test_invalid_noise_parameters_are_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        DepthNoise(**{field: value})


def test_a_depth_image_of_the_wrong_shape_is_rejected():
    with pytest.raises(ValueError, match="incidence_cos"):
        add_depth_noise(np.ones((4, 4)), np.ones((4, 5)), DepthNoise(), np.random.default_rng(0))


def test_the_noise_needs_a_generator_not_a_seed():
    with pytest.raises(ValueError, match="Generator"):
        add_depth_noise(*flat(2.0), DepthNoise(), 5)
