"""Validated answer payloads (``runtime.answer.validate_payload``) → SpatialAnswer message fields.

Convention:
    The payload's points, centres, orientations and positions are in the snapshot's world frame;
    ``T_target_world`` (4×4) maps them into the answer's frame (``header.frame_id``). Payload stamps are
    seconds (the frames' ``.stamp``); messages carry ``builtin_interfaces/Time``. Units are already SI.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point, Pose, PoseStamped, Quaternion, Vector3
from nav_msgs.msg import Path
from std_msgs.msg import Header

from spatialclaw_ros.geometry import matrix_to_quat, quat_to_matrix, transform_points
from spatialclaw_ros.msg import Measurement, SpatialAnswer, SpatialObject, Trajectory

MEASUREMENT_TYPE_CODES = {
    "distance": Measurement.DISTANCE,
    "size": Measurement.SIZE,
    "height": Measurement.HEIGHT,
    "angle": Measurement.ANGLE,
    "area": Measurement.AREA,
    "volume": Measurement.VOLUME,
    "speed": Measurement.SPEED,
    "count": Measurement.COUNT,
    "other": Measurement.OTHER,
}


def seconds_to_time(stamp_s: float) -> Time:
    """``builtin_interfaces/Time`` from seconds (rounded to the nanosecond)."""
    nanoseconds = round(stamp_s * 1e9)
    return Time(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def fill_answer(
    answer: SpatialAnswer,
    payload: Mapping[str, Any],
    *,
    T_target_world: np.ndarray,
    measured_stamp_s: float,
) -> SpatialAnswer:
    """Copy a validated payload's answer text and geometry into ``answer`` (its header already set).

    Args:
        answer: the message to fill; ``answer.header.frame_id`` names the target frame.
        payload: the normal form from ``validate_payload``.
        T_target_world: 4×4 transform from the snapshot's world frame into the target frame.
        measured_stamp_s: stamp of the newest frame the answer used, seconds: the moment measured.
    """
    if T_target_world.shape != (4, 4):
        raise ValueError(f"T_target_world must be 4×4, got {T_target_world.shape}")
    header = Header(frame_id=answer.header.frame_id, stamp=seconds_to_time(measured_stamp_s))
    answer.answer = payload["answer"]
    answer.measurements = [_measurement(item, header, T_target_world) for item in payload["measurements"]]
    answer.objects = [_object(item, header, T_target_world) for item in payload["objects"]]
    answer.trajectories = [_trajectory(item, header, T_target_world) for item in payload["trajectories"]]
    return answer


def _points(points: Sequence[Sequence[float]], T_target_world: np.ndarray) -> list[Point]:
    if not len(points):
        return []
    moved = transform_points(T_target_world, np.asarray(points, dtype=np.float64).reshape(-1, 3))
    return [Point(x=float(x), y=float(y), z=float(z)) for x, y, z in moved]


def _measurement(item: Mapping[str, Any], header: Header, T_target_world: np.ndarray) -> Measurement:
    stddev = item["stddev"]
    return Measurement(
        header=header,
        type=MEASUREMENT_TYPE_CODES[item["type"]],
        name=item["name"],
        value=float(item["value"]),
        unit=item["unit"],
        stddev=math.nan if stddev is None else float(stddev),
        subjects=list(item["subjects"]),
        points=_points(item["points"], T_target_world),
    )


def _object(item: Mapping[str, Any], header: Header, T_target_world: np.ndarray) -> SpatialObject:
    (center,) = _points([item["center"]], T_target_world)
    rotation = T_target_world[:3, :3] @ quat_to_matrix(np.asarray(item["orientation_xyzw"], dtype=np.float64))
    x, y, z, w = matrix_to_quat(rotation)
    size = item["size"]
    return SpatialObject(
        header=header,
        id=item["id"],
        label=item["label"],
        pose=Pose(position=center, orientation=Quaternion(x=float(x), y=float(y), z=float(z), w=float(w))),
        size=Vector3(x=float(size[0]), y=float(size[1]), z=float(size[2])),
        score=float(item["score"]),
    )


def _trajectory(item: Mapping[str, Any], header: Header, T_target_world: np.ndarray) -> Trajectory:
    positions = _points(item["positions"], T_target_world)
    poses = [
        PoseStamped(
            header=Header(frame_id=header.frame_id, stamp=seconds_to_time(stamp_s)),
            pose=Pose(position=position, orientation=Quaternion(w=1.0)),
        )
        for stamp_s, position in zip(item["stamps"], positions, strict=True)
    ]
    path_header = Header(frame_id=header.frame_id, stamp=poses[-1].header.stamp)
    return Trajectory(id=item["id"], label=item["label"], path=Path(header=path_header, poses=poses))
