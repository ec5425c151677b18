"""Agent outcomes (``spatialclaw_ros.agent.QueryOutcome``) → SpatialAnswer message fields.

Convention:
    The outcome's points, centres, orientations and positions are in the snapshot's world frame;
    ``T_target_world`` (4×4) maps them into the answer's frame (``header.frame_id``). Outcome stamps are
    seconds (the frames' ``.stamp``); messages carry ``builtin_interfaces/Time``. Units are already SI.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point, Pose, PoseStamped, Quaternion, Vector3
from nav_msgs.msg import Path
from std_msgs.msg import Header

from spatialclaw_ros.agent import MeasurementResult, ObjectResult, QueryOutcome, TrajectoryResult
from spatialclaw_ros.frames import SnapshotFrame
from spatialclaw_ros.geometry import matrix_to_quat, quat_to_matrix, transform_points
from spatialclaw_ros.msg import Measurement, SourceFrame, SpatialAnswer, SpatialObject, Trajectory

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


def nanoseconds_to_time(stamp_ns: int) -> Time:
    """``builtin_interfaces/Time`` from integer nanoseconds."""
    return Time(sec=stamp_ns // 1_000_000_000, nanosec=stamp_ns % 1_000_000_000)


def source_frame(frame: SnapshotFrame) -> SourceFrame:
    """What an answer says of one snapshot frame: camera, stamp, and where its depth came from.

    ``depth_offset_s`` is the depth stamp minus the colour stamp (s), NaN when the frame has no depth.
    """
    has_depth = frame.depth is not None and frame.depth_stamp_ns is not None
    return SourceFrame(
        camera=frame.camera,
        stamp=nanoseconds_to_time(frame.stamp_ns),
        depth_source="sensor" if has_depth else "",
        depth_offset_s=(frame.depth_stamp_ns - frame.stamp_ns) / 1e9 if has_depth else math.nan,
        depth_missing=frame.depth is None and frame.depth_expected,
    )


def fill_answer(answer: SpatialAnswer, outcome: QueryOutcome, *, T_target_world: np.ndarray) -> SpatialAnswer:
    """Copy an outcome's answer text, geometry, stamps and step count into ``answer``.

    Args:
        answer: the message to fill; ``answer.header.frame_id`` names the target frame.
        outcome: what the agent returned.
        T_target_world: 4×4 transform from the snapshot's world frame into the target frame.

    Measurements and objects are stamped with the newest source frame: the moment measured.
    """
    if T_target_world.shape != (4, 4):
        raise ValueError(f"T_target_world must be 4×4, got {T_target_world.shape}")
    measured_s = max(outcome.source_stamps, default=0.0)
    header = Header(frame_id=answer.header.frame_id, stamp=seconds_to_time(measured_s))
    answer.answer = outcome.answer
    answer.measurements = [_measurement(item, header, T_target_world) for item in outcome.measurements]
    answer.objects = [_object(item, header, T_target_world) for item in outcome.objects]
    answer.trajectories = [_trajectory(item, header, T_target_world) for item in outcome.trajectories]
    answer.source_stamps = [seconds_to_time(stamp_s) for stamp_s in sorted(outcome.source_stamps)]
    answer.steps = outcome.steps
    answer.trace_uri = outcome.trace_uri
    return answer


def _points(points: Sequence[Sequence[float]] | np.ndarray, T_target_world: np.ndarray) -> list[Point]:
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    if not len(points):
        return []
    moved = transform_points(T_target_world, points)
    return [Point(x=float(x), y=float(y), z=float(z)) for x, y, z in moved]


def _measurement(item: MeasurementResult, header: Header, T_target_world: np.ndarray) -> Measurement:
    return Measurement(
        header=header,
        type=MEASUREMENT_TYPE_CODES[item.type],
        name=item.name,
        value=float(item.value),
        unit=item.unit,
        stddev=float(item.stddev) if math.isfinite(item.stddev) else math.nan,
        subjects=list(item.subjects),
        points=_points(item.points, T_target_world),
    )


def _object(item: ObjectResult, header: Header, T_target_world: np.ndarray) -> SpatialObject:
    (center,) = _points(item.center, T_target_world)
    rotation = T_target_world[:3, :3] @ quat_to_matrix(np.asarray(item.orientation_xyzw, dtype=np.float64))
    x, y, z, w = matrix_to_quat(rotation)
    size = np.asarray(item.size, dtype=np.float64)
    return SpatialObject(
        header=header,
        id=item.id,
        label=item.label,
        pose=Pose(position=center, orientation=Quaternion(x=float(x), y=float(y), z=float(z), w=float(w))),
        size=Vector3(x=float(size[0]), y=float(size[1]), z=float(size[2])),
        score=float(item.score),
    )


def _trajectory(item: TrajectoryResult, header: Header, T_target_world: np.ndarray) -> Trajectory:
    positions = _points(item.positions, T_target_world)
    poses = [
        PoseStamped(
            header=Header(frame_id=header.frame_id, stamp=seconds_to_time(float(stamp_s))),
            pose=Pose(position=position, orientation=Quaternion(w=1.0)),
        )
        for stamp_s, position in zip(item.stamps, positions, strict=True)
    ]
    path_header = Header(frame_id=header.frame_id, stamp=poses[-1].header.stamp)
    return Trajectory(id=item.id, label=item.label, path=Path(header=path_header, poses=poses))
