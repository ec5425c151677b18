"""A query's frames as one coloured point cloud (sensor depth, camera poses), for ``~/points`` and files.

Convention:
    Points are metres in the snapshot's world frame: each frame's depth is back-projected in its optical
    frame (REP-103) and moved by its ``T_world_camera``. Frames without depth are skipped, and so are
    frames without a pose unless they are the world frame themselves (no pose source: the world is the
    first camera's optical frame). Every ``stride``-th pixel in both directions is used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spatialclaw_ros.geometry import backproject, transform_points
from spatialclaw_ros.runtime.frames import load_frames

MAX_POINTS = 2_000_000


def snapshot_points(snapshot_dir: Path, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """``(points N×3 float32 metres, colours N×3 uint8 RGB)`` of a snapshot, in its world frame."""
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    all_points, all_colours = [], []
    for frame in load_frames(snapshot_dir):
        if frame.depth is None or frame.K is None:
            continue
        if frame.T_world_camera is not None:
            T_world_camera = frame.T_world_camera
        elif frame.frame_id == frame.world_frame:
            T_world_camera = np.eye(4)
        else:
            continue
        depth = np.asarray(frame.depth)
        mask = np.zeros(depth.shape, dtype=bool)
        mask[::stride, ::stride] = True
        mask &= np.isfinite(depth) & (depth > 0)
        points = transform_points(T_world_camera, backproject(depth, frame.K, mask=mask))
        all_points.append(points.astype(np.float32))
        all_colours.append(np.asarray(frame.image)[mask])
    if not all_points:
        return np.zeros((0, 3), np.float32), np.zeros((0, 3), np.uint8)
    points, colours = np.concatenate(all_points), np.concatenate(all_colours)
    return points[:MAX_POINTS], colours[:MAX_POINTS]
