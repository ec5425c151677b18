"""Which class serves each capability's backend name: a registry of factories (``none`` is no backend).

A factory takes the service's :class:`PerceptionSettings` and returns the loaded backend, or ``None``
where the capability needs no model (``depth: sensor``: registered sensor depth only). Model code is
imported inside its factory, so a service that never loads SAM3 or DA3 never imports torch for them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from spatialclaw_ros.perception._labels import LabelImageSegmenter
from spatialclaw_ros.perception._settings import PerceptionSettings

BackendFactory = Callable[[PerceptionSettings], Any]


def _sam3(settings: PerceptionSettings) -> Any:
    from spatialclaw_ros.perception._sam3 import Sam3Segmenter

    return Sam3Segmenter(settings.sam3_model, settings.device, settings.mask_threshold, settings.hf_cache_dir)


def _labels(settings: PerceptionSettings) -> Any:
    return LabelImageSegmenter(settings.label_map)


def _da3_depth(settings: PerceptionSettings) -> Any:
    from spatialclaw_ros.perception._da3 import Da3DepthEstimator

    return Da3DepthEstimator(
        settings.da3_depth_model,
        settings.device,
        settings.da3_process_res_px,
        settings.da3_depth_overrides,
        settings.hf_cache_dir,
    )


def _sensor_depth(settings: PerceptionSettings) -> None:
    return None


def _da3_reconstructor(settings: PerceptionSettings) -> Any:
    from spatialclaw_ros.perception._da3 import Da3Reconstructor

    return Da3Reconstructor(
        settings.da3_reconstruct_model,
        settings.device,
        settings.da3_process_res_px,
        settings.da3_reconstruct_overrides,
        settings.hf_cache_dir,
    )


BACKENDS: Mapping[str, Mapping[str, BackendFactory]] = {
    "segmenter": {"sam3": _sam3, "labels": _labels},
    "depth": {"da3": _da3_depth, "sensor": _sensor_depth},
    "reconstructor": {"da3": _da3_reconstructor},
}
