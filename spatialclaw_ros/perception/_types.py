"""The backend Protocols (Segmenter, DepthEstimator, Reconstructor) and the typed results they return.

Convention:
    Images are (H, W, 3) uint8 RGB; masks (H, W) bool on the image's grid; boxes
    ``(x_min, y_min, x_max, y_max)`` pixels; depth metres along the optical axis (z), NaN unknown;
    ``K`` (3, 3) pixels; ``T_world_camera`` (4, 4) maps camera-optical points (REP-103) to the world.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


class PerceptionUnavailableError(RuntimeError):
    """A backend cannot serve: turned off, weights missing, or it failed to load. Says how to fix it."""


class InvalidRequestError(ValueError):
    """The request cannot be served as asked (shapes, missing inputs, bad parameters)."""


@dataclass(frozen=True, eq=False)
class Instances:
    """Instances found in one image, best score first.

    ``keys`` are stable instance ids when the source has them (label images), else None.
    """

    masks: np.ndarray
    scores: np.ndarray
    boxes: np.ndarray
    labels: tuple[str, ...]
    keys: np.ndarray | None = None

    @classmethod
    def empty(cls, height: int, width: int) -> Instances:
        """No instance on an (height, width) image."""
        return cls(
            np.zeros((0, height, width), dtype=bool),
            np.zeros(0, dtype=np.float32),
            np.zeros((0, 4), dtype=np.float32),
            (),
        )


@dataclass(frozen=True, eq=False)
class Tracked:
    """Instances linked over F frames: (M, F, ...) arrays, ``present`` (M, F) bool, NaN where absent."""

    object_ids: np.ndarray
    masks: np.ndarray
    present: np.ndarray
    scores: np.ndarray
    boxes: np.ndarray


@dataclass(frozen=True, eq=False)
class DepthPrediction:
    """A depth map on the input image's grid; ``metric`` False means relative units."""

    depth_m: np.ndarray
    confidence: np.ndarray | None
    metric: bool


@dataclass(frozen=True, eq=False)
class View:
    """One frame given to a reconstructor, with what the robot knows about it (None when unknown)."""

    image: np.ndarray
    K: np.ndarray | None = None
    T_world_camera: np.ndarray | None = None
    sensor_depth_m: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class ReconstructionPrediction:
    """Per-view depth and confidence on each view's grid, (F, 3, 3) K and (F, 4, 4) camera poses.

    ``scale_source`` is ``poses``, ``sensor_depth``, ``model`` or ``none`` (then ``metric`` is False
    and the world is the first view's camera).
    """

    depth_m: tuple[np.ndarray, ...]
    confidence: tuple[np.ndarray, ...]
    K: np.ndarray
    T_world_camera: np.ndarray
    metric: bool
    scale_source: str


@runtime_checkable
class Segmenter(Protocol):
    """Image + text prompt → instance masks, scores, boxes."""

    name: str

    def segment(
        self,
        image: np.ndarray,
        prompt: str,
        min_score: float,
        labels: np.ndarray | None,
        label_map: Mapping[int, str] | None = None,
    ) -> Instances:
        """Instances of ``prompt`` in ``image``.

        ``labels`` is the frame's (H, W) integer instance-label image and ``label_map`` its id → name
        map, when the camera publishes them (simulators); None otherwise.
        """
        ...


@runtime_checkable
class DepthEstimator(Protocol):
    """Image (+ intrinsics) → depth."""

    name: str

    def estimate(self, image: np.ndarray, K: np.ndarray | None) -> DepthPrediction:
        """Depth of ``image``; ``K`` (pixels) lets metric models convert to metres."""
        ...


@runtime_checkable
class Reconstructor(Protocol):
    """Frames → per-frame depth, intrinsics, camera poses, confidence."""

    name: str

    def reconstruct(self, views: Sequence[View]) -> ReconstructionPrediction:
        """One multi-view pass over ``views``."""
        ...
