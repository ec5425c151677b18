"""Segmentation from simulator instance-label images: masks by label name, no model.

Simulators publish an image whose pixels hold instance ids; the ``label_map`` setting names them.
A prompt selects every instance whose name matches it, ignoring case, surrounding blanks, a plural
``s`` and a numeric suffix (``chair_2`` and ``Chair 2`` answer ``chairs``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from spatialclaw_ros.perception._types import Instances, InvalidRequestError

_SUFFIX = re.compile(r"[\s_\-]*\d+$")


def _normalise(name: str) -> str:
    text = _SUFFIX.sub("", name.strip().lower()).replace("_", " ")
    text = " ".join(text.split())
    return text[:-1] if text.endswith("s") and not text.endswith("ss") else text


class LabelImageSegmenter:
    """Segmenter over instance-label images (``labels`` of each request) and a fixed label map."""

    name = "labels"

    def __init__(self, label_map: Iterable[tuple[int, str]]) -> None:
        """``label_map``: ``(instance_id, name)`` pairs."""
        self._names = dict(label_map)

    def segment(
        self, image: np.ndarray, prompt: str, min_score: float, labels: np.ndarray | None
    ) -> Instances:
        """One mask per instance id whose name matches ``prompt``; score 1, largest first."""
        if labels is None:
            raise InvalidRequestError(
                "the labels segmenter needs the frame's instance-label image; this camera has none"
            )
        if labels.shape != image.shape[:2] or labels.dtype.kind not in "iu":
            raise InvalidRequestError(
                f"the label image must be integer {image.shape[:2]}, got {labels.dtype} {labels.shape}"
            )
        wanted = _normalise(prompt)
        ids = [i for i, name in self._names.items() if _normalise(name) == wanted]
        masks = [labels == i for i in ids]
        kept = [(mask.sum(), i, mask) for i, mask in zip(ids, masks, strict=True) if mask.any()]
        kept.sort(key=lambda item: -item[0])
        if not kept:
            return Instances.empty(*image.shape[:2])
        stack = np.stack([mask for _, _, mask in kept])
        boxes = np.array([_box(mask) for mask in stack], dtype=np.float32)
        return Instances(
            masks=stack,
            scores=np.ones(len(kept), dtype=np.float32),
            boxes=boxes,
            labels=tuple(self._names[i] for _, i, _ in kept),
            keys=np.array([i for _, i, _ in kept], dtype=np.int64),
        )


def _box(mask: np.ndarray) -> tuple[float, float, float, float]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return float(cols[0]), float(rows[0]), float(cols[-1]), float(rows[-1])
