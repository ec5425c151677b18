"""Depth-Anything-3: single-image depth and multi-view reconstruction (depth, intrinsics, poses).

Uses the network classes of the ``depth-anything-3`` package (installed with ``--no-deps``: it needs
only omegaconf, addict and einops here) and does its own pre- and post-processing, so neither its
export stack nor torchvision is needed. Weights are a Hugging Face model directory (``config.json``
naming the preset, ``model.safetensors``) in a local path or the Hugging Face cache.

Licences: DA3-SMALL, DA3-BASE, DA3METRIC-LARGE and DA3MONO-LARGE are Apache-2.0; DA3-LARGE,
DA3-GIANT and DA3NESTED-GIANT-LARGE are CC BY-NC 4.0 (non-commercial).

Metric scale: ``da3metric-*`` presets give metres from the camera focal length
(``depth_m = raw * f_px / 300`` at the processing resolution) and need ``K``; ``da3nested-*`` presets
are metric by themselves; the any-view presets (``da3-small`` … ``da3-giant``) are up to scale, and the
reconstructor fixes their scale from the frames' known camera poses or sensor depth.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from spatialclaw_ros.geometry import median_depth_scale
from spatialclaw_ros.perception._types import (
    DepthPrediction,
    InvalidRequestError,
    PerceptionUnavailableError,
    ReconstructionPrediction,
    View,
)
from spatialclaw_ros.perception._weights import resolve_device, resolve_model_dir

PATCH_PX = 14
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
METRIC_FOCAL_PX = 300.0
SKY_THRESHOLD = 0.3
MIN_BASELINE_M = 1e-3
LICENCE_NOTE = (
    "DA3-SMALL/BASE and DA3METRIC-LARGE are Apache-2.0; "
    "DA3-LARGE/GIANT/NESTED are CC BY-NC 4.0 (non-commercial)."
)


def processing_size(height: int, width: int, long_side_px: int) -> tuple[int, int]:
    """(h, w) for DA3: long side scaled to ``long_side_px``, each side rounded to a multiple of 14."""
    scale = long_side_px / max(height, width)
    return (
        max(PATCH_PX, round(height * scale / PATCH_PX) * PATCH_PX),
        max(PATCH_PX, round(width * scale / PATCH_PX) * PATCH_PX),
    )


def normalise_images(images: Sequence[np.ndarray], size_hw: tuple[int, int]) -> np.ndarray:
    """(N, 3, h, w) float32: each (H, W, 3) uint8 RGB image resized to ``size_hw``, ImageNet-normalised."""
    h, w = size_hw
    out = np.empty((len(images), 3, h, w), dtype=np.float32)
    for i, image in enumerate(images):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise InvalidRequestError(f"image {i} must be (H, W, 3) uint8, got {image.dtype} {image.shape}")
        shrink = h * w < image.shape[0] * image.shape[1]
        resized = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
        out[i] = ((resized.astype(np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)
    return out


def scale_intrinsics(K: np.ndarray, from_hw: tuple[int, int], to_hw: tuple[int, int]) -> np.ndarray:
    """K of an image resized from ``from_hw`` to ``to_hw`` (rows 0 and 1 scale with width and height)."""
    scaled = np.array(K, dtype=np.float64)
    scaled[0] *= to_hw[1] / from_hw[1]
    scaled[1] *= to_hw[0] / from_hw[0]
    return scaled


def resize_map(values: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """A float map resized (bilinear) to ``size_hw``."""
    return cv2.resize(values.astype(np.float32), (size_hw[1], size_hw[0]), interpolation=cv2.INTER_LINEAR)


def _homogeneous(pose_3x4: np.ndarray) -> np.ndarray:
    out = np.tile(np.eye(4), (pose_3x4.shape[0], 1, 1))
    out[:, :3, :4] = pose_3x4
    return out


def _spread(centres: np.ndarray) -> float:
    return float(np.sqrt(((centres - centres.mean(axis=0)) ** 2).sum(axis=1).mean()))


def _load_weights(network: Any, state: dict[str, Any]) -> None:
    """Load ``state`` into ``network``; only keys of tied weights (stored once) may be missing."""
    result = network.load_state_dict(state, strict=False)
    own = network.state_dict()
    loaded_storage = {own[key].data_ptr() for key in state if key in own}
    untied = [key for key in result.missing_keys if own[key].data_ptr() not in loaded_storage]
    if untied or result.unexpected_keys:
        raise KeyError(f"missing {untied[:5]}, unexpected {result.unexpected_keys[:5]}")


class _Da3Network:
    """A DA3 network and its preset, loaded from a model directory."""

    def __init__(self, model: str, overrides: Sequence[str], device: str, cache_dir: str) -> None:
        directory = resolve_model_dir(model, ("config.json", "model.safetensors"), cache_dir, LICENCE_NOTE)
        import torch
        from depth_anything_3.cfg import create_object, load_config
        from depth_anything_3.registry import MODEL_REGISTRY
        from safetensors.torch import load_file

        config = json.loads((directory / "config.json").read_text())
        preset = config.get("model_name", "")
        if preset not in MODEL_REGISTRY:
            raise PerceptionUnavailableError(
                f"{directory / 'config.json'} names preset {preset!r}; known: {', '.join(MODEL_REGISTRY)}"
            )
        network = create_object(load_config(MODEL_REGISTRY[preset], list(overrides) or None))
        state = {
            (key[len("model.") :] if key.startswith("model.") else key): value
            for key, value in load_file(str(directory / "model.safetensors")).items()
        }
        try:
            _load_weights(network, state)
        except (RuntimeError, KeyError) as error:
            raise PerceptionUnavailableError(
                f"{directory / 'model.safetensors'} does not fit preset {preset}: {str(error)[:300]}"
            ) from error
        self.torch = torch
        self.device = torch.device(resolve_device(device))
        self.network = network.to(self.device).eval()
        self.preset = preset

    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        """Forward (1, N, 3, h, w) normalised images; returns numpy outputs without the batch axis."""
        torch = self.torch
        with torch.inference_mode():
            output = self.network(torch.from_numpy(batch[None]).to(self.device))
        return {
            key: value[0].float().cpu().numpy()
            for key, value in output.items()
            if isinstance(value, torch.Tensor)
        }


class Da3DepthEstimator:
    """DepthEstimator backed by a DA3 preset; metric for ``da3metric-*`` and ``da3nested-*`` presets."""

    name = "da3"

    def __init__(
        self, model: str, device: str, process_res_px: int, overrides: Sequence[str] = (), cache_dir: str = ""
    ) -> None:
        """Load ``model``; PerceptionUnavailableError when its weights are missing or do not fit."""
        self._net = _Da3Network(model, overrides, device, cache_dir)
        self._process_res_px = process_res_px
        self.preset = self._net.preset

    def estimate(self, image: np.ndarray, K: np.ndarray | None) -> DepthPrediction:
        """Depth of ``image`` on its own grid; sky pixels of metric presets are NaN."""
        height, width = image.shape[:2]
        size = processing_size(height, width, self._process_res_px)
        output = self._net.run(normalise_images([image], size))
        raw = output["depth"].reshape(size)
        metric = self.preset.startswith(("da3metric", "da3nested"))
        if self.preset.startswith("da3metric"):
            if K is None:
                raise InvalidRequestError(f"{self.preset} needs the camera intrinsics K for metric depth")
            K_proc = scale_intrinsics(K, (height, width), size)
            raw = raw * float(K_proc[0, 0] + K_proc[1, 1]) / 2.0 / METRIC_FOCAL_PX
        if metric and "sky" in output:
            raw = np.where(output["sky"].reshape(size) < SKY_THRESHOLD, raw, np.nan)
        confidence = output.get("depth_conf")
        return DepthPrediction(
            depth_m=resize_map(raw, (height, width)),
            confidence=None if confidence is None else resize_map(confidence.reshape(size), (height, width)),
            metric=metric,
        )


class Da3Reconstructor:
    """Reconstructor backed by an any-view DA3 preset (camera head required)."""

    name = "da3"

    def __init__(
        self, model: str, device: str, process_res_px: int, overrides: Sequence[str] = (), cache_dir: str = ""
    ) -> None:
        """Load ``model``; PerceptionUnavailableError when missing or when the preset estimates no poses."""
        self._net = _Da3Network(model, overrides, device, cache_dir)
        if getattr(self._net.network, "cam_dec", None) is None:
            raise PerceptionUnavailableError(
                f"preset {self._net.preset} estimates no camera poses; "
                "use depth-anything/DA3-SMALL or DA3-BASE"
            )
        self._process_res_px = process_res_px
        self.preset = self._net.preset

    def reconstruct(self, views: Sequence[View]) -> ReconstructionPrediction:
        """One pass over all views (resized to the first view's processing size), then metric scaling."""
        if not views:
            raise InvalidRequestError("reconstruct needs at least one frame")
        sizes = [tuple(view.image.shape[:2]) for view in views]
        size = processing_size(*sizes[0], self._process_res_px)
        output = self._net.run(normalise_images([view.image for view in views], size))
        depth_proc = output["depth"].reshape(len(views), *size)
        confidence_proc = output["depth_conf"].reshape(len(views), *size)
        T_pred = np.linalg.inv(_homogeneous(output["extrinsics"].astype(np.float64)))
        T_first = np.linalg.inv(T_pred[0]) @ T_pred
        depth = [resize_map(d, hw) for d, hw in zip(depth_proc, sizes, strict=True)]
        confidence = tuple(resize_map(c, hw) for c, hw in zip(confidence_proc, sizes, strict=True))
        K = np.stack(
            [
                np.asarray(view.K, dtype=np.float64) if view.K is not None else scale_intrinsics(k, size, hw)
                for view, k, hw in zip(views, output["intrinsics"], sizes, strict=True)
            ]
        )
        scale, source, T_world = self._metric_scale(views, depth, T_first)
        return ReconstructionPrediction(
            depth_m=tuple((d * scale).astype(np.float32) for d in depth),
            confidence=confidence,
            K=K,
            T_world_camera=T_world,
            metric=source != "none",
            scale_source=source,
        )

    @staticmethod
    def _metric_scale(
        views: Sequence[View], depth: Sequence[np.ndarray], T_first: np.ndarray
    ) -> tuple[float, str, np.ndarray]:
        """(scale to metres, its source, (F, 4, 4) T_world_camera) from known poses, else sensor depth."""
        if len(views) >= 2 and all(view.T_world_camera is not None for view in views):
            known = np.stack([np.asarray(view.T_world_camera, dtype=np.float64) for view in views])
            known_spread = _spread(known[:, :3, 3])
            predicted_spread = _spread(T_first[:, :3, 3])
            if known_spread > MIN_BASELINE_M and predicted_spread > 0.0:
                return known_spread / predicted_spread, "poses", known
        ratios = [
            median_depth_scale(d, view.sensor_depth_m)
            for view, d in zip(views, depth, strict=True)
            if view.sensor_depth_m is not None and _has_overlap(d, view.sensor_depth_m)
        ]
        if not ratios:
            return 1.0, "none", T_first
        scale = float(np.median(ratios))
        T_scaled = T_first.copy()
        T_scaled[:, :3, 3] *= scale
        first = views[0].T_world_camera
        T_world = T_scaled if first is None else np.asarray(first, dtype=np.float64) @ T_scaled
        return scale, "sensor_depth", T_world


def _has_overlap(relative: np.ndarray, sensor: Any) -> bool:
    sensor = np.asarray(sensor)
    if sensor.shape != relative.shape:
        raise InvalidRequestError(f"sensor depth {sensor.shape} must match its image {relative.shape}")
    return bool(np.any(np.isfinite(sensor) & (sensor > 0) & np.isfinite(relative) & (relative > 0)))
