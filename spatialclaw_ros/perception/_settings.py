"""Settings of the perception service: which backend serves each capability, weights, limits."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from spatialclaw_ros.settings import DEPTH_BACKENDS, RECONSTRUCTORS, SEGMENTERS


@dataclass(frozen=True)
class PerceptionSettings:
    """Everything the service needs; the node builds it from its ``perception.*`` parameters.

    Attributes:
        segmenter: ``sam3`` (text-prompted SAM3), ``labels`` (simulator instance-label images and
            ``label_map``) or ``none``.
        depth: ``da3`` (Depth-Anything-3 when a frame has no sensor depth), ``sensor`` (the camera's
            registered depth only) or ``none``.
        reconstructor: ``da3`` or ``none``.
        sam3_model: local directory or Hugging Face model id (``facebook/sam3``, gated: licence
            accepted on its page, then ``hf download facebook/sam3``).
        da3_depth_model: local directory or model id of the single-image depth model; the default
            ``depth-anything/DA3METRIC-LARGE`` is metric and Apache-2.0.
        da3_reconstruct_model: local directory or model id of the multi-view model;
            ``depth-anything/DA3-SMALL`` and ``DA3-BASE`` are Apache-2.0, the larger ones CC BY-NC 4.0.
        da3_depth_overrides: OmegaConf dot-list applied to the depth model's preset network config
            (custom or reduced variants; empty for the published checkpoints).
        da3_reconstruct_overrides: the same for the multi-view model.
        da3_process_res_px: DA3's processing resolution, the long image side in pixels (multiple of 14).
        label_map: ``(instance_id, name)`` pairs of the label images; names like ``chair_2`` answer
            the prompt ``chair``.
        device: ``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:N``.
        torch_threads: CPU threads torch may use (0: torch's default, all cores).
        hf_cache_dir: Hugging Face cache directory; empty means the default (``HF_HOME``).
        min_score: SAM3 instance score threshold (0..1).
        mask_threshold: SAM3 mask probability threshold (0..1).
        track_min_iou: mask IoU that links a detection to a track in the previous frame.
        cache_entries: most replies kept in the LRU cache.
        cache_mb: most megabytes of replies kept in the cache.
        max_request_mb: largest request body accepted, MiB (a request is held once while it is served).
        call_timeout_s: longest one call may wait and compute before the caller gets TIMEOUT.
        max_queued_per_query: most calls one query may have waiting behind the running one (its
            next call is refused with BUSY); queries are served round-robin.
    """

    segmenter: str = "sam3"
    depth: str = "da3"
    reconstructor: str = "da3"
    sam3_model: str = "facebook/sam3"
    da3_depth_model: str = "depth-anything/DA3METRIC-LARGE"
    da3_reconstruct_model: str = "depth-anything/DA3-BASE"
    da3_depth_overrides: tuple[str, ...] = ()
    da3_reconstruct_overrides: tuple[str, ...] = ()
    da3_process_res_px: int = 504
    label_map: tuple[tuple[int, str], ...] = ()
    device: str = "auto"
    torch_threads: int = 0
    hf_cache_dir: str = ""
    min_score: float = 0.5
    mask_threshold: float = 0.5
    track_min_iou: float = 0.3
    cache_entries: int = 256
    cache_mb: int = 512
    max_request_mb: int = 96
    call_timeout_s: float = 120.0
    max_queued_per_query: int = 4

    def __post_init__(self) -> None:
        """Reject unknown backends and impossible limits early, with the setting's name."""
        for name, value, allowed in (
            ("segmenter", self.segmenter, SEGMENTERS),
            ("depth", self.depth, DEPTH_BACKENDS),
            ("reconstructor", self.reconstructor, RECONSTRUCTORS),
        ):
            if value not in allowed:
                raise ValueError(f"perception.{name} must be one of {allowed}, got {value!r}")
        if self.da3_process_res_px < 14 or self.da3_process_res_px % 14:
            raise ValueError(
                f"perception.da3_process_res_px must be a multiple of 14, got {self.da3_process_res_px}"
            )
        for name in ("cache_entries", "cache_mb", "max_request_mb", "torch_threads"):
            if getattr(self, name) < 0:
                raise ValueError(f"perception.{name} must be >= 0")
        if self.max_queued_per_query < 1:
            raise ValueError("perception.max_queued_per_query must be >= 1")
        if self.call_timeout_s <= 0:
            raise ValueError("perception.call_timeout_s must be > 0")
        for name in ("min_score", "mask_threshold", "track_min_iou"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"perception.{name} must be in [0, 1]")
        object.__setattr__(self, "label_map", tuple((int(i), str(n)) for i, n in self.label_map))
        for name in ("da3_depth_overrides", "da3_reconstruct_overrides"):
            object.__setattr__(self, name, tuple(str(item) for item in getattr(self, name)))

    def to_json(self) -> str:
        """JSON form, to hand the settings to the service process."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> PerceptionSettings:
        """Inverse of :meth:`to_json`."""
        data: dict[str, Any] = json.loads(text)
        data["label_map"] = tuple(tuple(pair) for pair in data.get("label_map", ()))
        for name in ("da3_depth_overrides", "da3_reconstruct_overrides"):
            data[name] = tuple(data.get(name, ()))
        return cls(**data)
