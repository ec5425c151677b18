import numpy as np
import pytest

from spatialclaw_ros.perception import DepthEstimator, InvalidRequestError
from spatialclaw_ros.perception._da3 import Da3DepthEstimator

K = np.array([[100.0, 0.0, 64.0], [0.0, 100.0, 48.0], [0.0, 0.0, 1.0]])


@pytest.fixture(scope="module")
def metric(da3_metric_dir, da3_metric_overrides, da3_res_px):
    return Da3DepthEstimator(str(da3_metric_dir), "cpu", da3_res_px, da3_metric_overrides)


def test_metric_preset_gives_metres_on_the_input_grid(metric, image):
    assert isinstance(metric, DepthEstimator)
    prediction = metric.estimate(image, K)
    assert prediction.metric
    assert prediction.depth_m.shape == image.shape[:2] and prediction.depth_m.dtype == np.float32


def test_metric_depth_scales_with_the_focal_length(metric, image):
    near = metric.estimate(image, K).depth_m
    K_long = K.copy()
    K_long[0, 0] = K_long[1, 1] = 200.0
    far = metric.estimate(image, K_long).depth_m
    valid = np.isfinite(near) & np.isfinite(far)
    np.testing.assert_allclose(far[valid], 2.0 * near[valid], rtol=1e-4)


def test_metric_preset_needs_intrinsics(metric, image):
    with pytest.raises(InvalidRequestError, match="intrinsics"):
        metric.estimate(image, None)


def test_any_view_preset_is_relative(da3_small_dir, da3_res_px, image):
    estimator = Da3DepthEstimator(str(da3_small_dir), "cpu", da3_res_px)
    prediction = estimator.estimate(image, None)
    assert not prediction.metric
    assert prediction.confidence is not None and prediction.confidence.shape == image.shape[:2]
