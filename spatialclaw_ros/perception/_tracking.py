"""Tracking a prompt over frames: link per-frame instances into objects with stable ids.

Instances that carry keys (label images' instance ids) are linked by key. Others are linked frame to
frame by mask IoU with an optimal one-to-one assignment (Hungarian); a track that is not seen keeps
its last mask, so an object hidden for a few frames is picked up again where it was last seen.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from spatialclaw_ros.perception._types import Instances, Tracked


def mask_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(A, B) intersection over union of (A, H, W) and (B, H, W) bool masks; 0 where both are empty."""
    flat_a = a.reshape(a.shape[0], -1).astype(np.float32)
    flat_b = b.reshape(b.shape[0], -1).astype(np.float32)
    intersection = flat_a @ flat_b.T
    union = flat_a.sum(1)[:, None] + flat_b.sum(1)[None, :] - intersection
    return np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0)


def link_instances(per_frame: Sequence[Instances], min_iou: float) -> Tracked:
    """Objects over ``per_frame`` (one Instances per frame, same image size), ids in order of appearance."""
    if not per_frame:
        raise ValueError("link_instances needs at least one frame")
    keyed = all(instances.keys is not None for instances in per_frame)
    track_of = _by_key(per_frame) if keyed else _by_iou(per_frame, min_iou)
    count = max((max(ids, default=-1) for ids in track_of), default=-1) + 1
    n_frames = len(per_frame)
    height, width = per_frame[0].masks.shape[1:]
    masks = np.zeros((count, n_frames, height, width), dtype=bool)
    present = np.zeros((count, n_frames), dtype=bool)
    scores = np.full((count, n_frames), np.nan, dtype=np.float32)
    boxes = np.full((count, n_frames, 4), np.nan, dtype=np.float32)
    for f, (instances, ids) in enumerate(zip(per_frame, track_of, strict=True)):
        for i, track in enumerate(ids):
            masks[track, f] = instances.masks[i]
            present[track, f] = True
            scores[track, f] = instances.scores[i]
            boxes[track, f] = instances.boxes[i]
    return Tracked(np.arange(count), masks, present, scores, boxes)


def _by_key(per_frame: Sequence[Instances]) -> list[list[int]]:
    track_of_key: dict[int, int] = {}
    result = []
    for instances in per_frame:
        keys = instances.keys if instances.keys is not None else ()
        result.append([track_of_key.setdefault(int(key), len(track_of_key)) for key in keys])
    return result


def _by_iou(per_frame: Sequence[Instances], min_iou: float) -> list[list[int]]:
    last_masks: list[np.ndarray] = []
    result = []
    for instances in per_frame:
        ids = [-1] * len(instances.scores)
        if last_masks and ids:
            iou = mask_iou(np.stack(last_masks), instances.masks)
            rows, cols = linear_sum_assignment(-iou)
            for track, detection in zip(rows, cols, strict=True):
                if iou[track, detection] >= min_iou:
                    ids[detection] = int(track)
        for detection, track in enumerate(ids):
            if track < 0:
                ids[detection] = len(last_masks)
                last_masks.append(instances.masks[detection])
            else:
                last_masks[track] = instances.masks[detection]
        result.append(ids)
    return result
