"""Segmentation from simulator instance-label images: masks by label name, no model.

Simulators publish an image whose pixels hold instance ids and a label map that names them. Each
request carries the frame's label image and, when the camera published one, its label map; the
``label_map`` setting is the fallback for frames without one.

A prompt selects every instance whose name ends with the prompt's words, compared word by word
after normalising both: case and surrounding blanks are ignored, underscores are blanks, a numeric
suffix is dropped and plurals are made singular. So ``chair`` and ``chairs`` answer ``chair_2``,
``Chair 2`` and ``orange chair``; ``orange chair`` answers only the last; ``table`` does not answer
``table lamp``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np

from spatialclaw_ros.perception._types import Instances, InvalidRequestError

_SUFFIX = re.compile(r"[\s_\-]*\d+$")
_INSTANCE_ID = re.compile(r"-?[0-9]+")
_PLURALS = (("ies", "y"), ("lves", "lf"), ("xes", "x"), ("ches", "ch"), ("shes", "sh"), ("sses", "ss"))


def _singular(word: str) -> str:
    for plural, singular in _PLURALS:
        if word.endswith(plural) and len(word) > len(plural):
            return word[: -len(plural)] + singular
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 1 else word


def _words(name: str) -> tuple[str, ...]:
    text = _SUFFIX.sub("", name.strip().lower()).replace("_", " ").replace("-", " ")
    return tuple(_singular(word) for word in text.split())


def name_matches(prompt: str, name: str) -> bool:
    """Whether the label ``name`` answers ``prompt`` (see the module docstring)."""
    wanted, words = _words(prompt), _words(name)
    return bool(wanted) and words[len(words) - len(wanted) :] == wanted


def label_map_from_request(value: object) -> dict[int, str]:
    """A request's label map, JSON ``{"id": "name"}``, as id → name.

    Raises:
        InvalidRequestError: not an object, a key that is not an integer, or a name that is not a
            non-empty string.
    """
    if not isinstance(value, dict):
        raise InvalidRequestError(f"label_map must be an object {{id: name}}, got {type(value).__name__}")
    label_map: dict[int, str] = {}
    for key, name in value.items():
        if not isinstance(key, str) or not _INSTANCE_ID.fullmatch(key):
            raise InvalidRequestError(f"label_map key {key!r} is not an integer instance id")
        if not isinstance(name, str) or not name.strip():
            raise InvalidRequestError(f"label_map name of id {key} must be a non-empty string, got {name!r}")
        label_map[int(key)] = name
    return label_map


class LabelImageSegmenter:
    """Segmenter over instance-label images (``labels`` of each request) and their label maps."""

    name = "labels"

    def __init__(self, label_map: Iterable[tuple[int, str]]) -> None:
        """``label_map``: ``(instance_id, name)`` pairs used for frames that bring no label map."""
        self._names = dict(label_map)

    def segment(
        self,
        image: np.ndarray,
        prompt: str,
        min_score: float,
        labels: np.ndarray | None,
        label_map: Mapping[int, str] | None = None,
    ) -> Instances:
        """One mask per instance id whose name matches ``prompt``; score 1, largest first.

        ``label_map`` (id → name) is the frame's own; without one (None or empty) the settings'
        map names the ids. ``keys`` of the result are the instance ids.
        """
        if labels is None:
            raise InvalidRequestError(
                "the labels segmenter needs the frame's instance-label image; this camera has none"
            )
        if labels.shape != image.shape[:2] or labels.dtype.kind not in "iu":
            raise InvalidRequestError(
                f"the label image must be integer {image.shape[:2]}, got {labels.dtype} {labels.shape}"
            )
        names = label_map if label_map else self._names
        if not names:
            raise InvalidRequestError(
                "the frame has no label map and perception.label_map is empty: nothing names the instance ids"
            )
        ids = [i for i, name in names.items() if name_matches(prompt, name)]
        masks = [labels == i for i in ids]
        kept = [(mask.sum(), i, mask) for i, mask in zip(ids, masks, strict=True) if mask.any()]
        kept.sort(key=lambda item: -item[0])
        if not kept:
            empty = Instances.empty(*image.shape[:2])
            return Instances(empty.masks, empty.scores, empty.boxes, (), np.zeros(0, dtype=np.int64))
        stack = np.stack([mask for _, _, mask in kept])
        boxes = np.array([_box(mask) for mask in stack], dtype=np.float32)
        return Instances(
            masks=stack,
            scores=np.ones(len(kept), dtype=np.float32),
            boxes=boxes,
            labels=tuple(names[i] for _, i, _ in kept),
            keys=np.array([i for _, i, _ in kept], dtype=np.int64),
        )


def _box(mask: np.ndarray) -> tuple[float, float, float, float]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return float(cols[0]), float(rows[0]), float(cols[-1]), float(rows[-1])
