"""Engine answers (``spatialclaw_ros.engine.Answer``) → SpatialAnswer message fields.

Convention:
    The answer's points, centres, orientations and positions are in the snapshot's world frame,
    which is the answer's frame (``header.frame_id``): a query's target frame becomes the snapshot's
    world frame when the snapshot is written. Answer stamps are seconds (the frames' ``.stamp``);
    messages carry ``builtin_interfaces/Time``. Units are already SI.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point, Pose, PoseStamped, Quaternion, Vector3
from nav_msgs.msg import Path
from std_msgs.msg import Header

from spatialclaw_ros import engine
from spatialclaw_ros.agent import MeasurementResult, ObjectResult, TrajectoryResult
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


def source_frame(frame: engine.SourceFrame) -> SourceFrame:
    """What an answer says of one of its frames: camera, stamp, and where its depth came from."""
    return SourceFrame(
        camera=frame.camera,
        stamp=nanoseconds_to_time(frame.stamp_ns),
        depth_source=frame.depth_source,
        depth_offset_s=frame.depth_offset_s,
        depth_missing=frame.depth_missing,
    )


def fill_answer(answer: SpatialAnswer, outcome: engine.Answer) -> SpatialAnswer:
    """Copy an answer's text, geometry, stamps, step count and trace into the message ``answer``.

    ``answer.header.frame_id`` names the snapshot's world frame, which the geometry is in.
    Measurements and objects are stamped with the newest source frame: the moment measured.
    """
    measured_s = max(outcome.source_stamps, default=0.0)
    header = Header(frame_id=answer.header.frame_id, stamp=seconds_to_time(measured_s))
    answer.answer = outcome.answer
    answer.measurements = [_measurement(item, header) for item in outcome.measurements]
    answer.objects = [_object(item, header) for item in outcome.objects]
    answer.trajectories = [_trajectory(item, header) for item in outcome.trajectories]
    answer.source_stamps = [seconds_to_time(stamp_s) for stamp_s in sorted(outcome.source_stamps)]
    answer.steps = outcome.steps
    answer.trace_uri = outcome.trace_uri
    return answer


def _points(points: Sequence[Sequence[float]] | np.ndarray) -> list[Point]:
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    return [Point(x=float(x), y=float(y), z=float(z)) for x, y, z in points]


def _measurement(item: MeasurementResult, header: Header) -> Measurement:
    return Measurement(
        header=header,
        type=MEASUREMENT_TYPE_CODES[item.type],
        name=item.name,
        value=float(item.value),
        unit=item.unit,
        stddev=float(item.stddev) if math.isfinite(item.stddev) else math.nan,
        subjects=list(item.subjects),
        points=_points(item.points),
    )


def _object(item: ObjectResult, header: Header) -> SpatialObject:
    (center,) = _points(item.center)
    x, y, z, w = _unit_quaternion(item.orientation_xyzw)
    size = np.asarray(item.size, dtype=np.float64)
    return SpatialObject(
        header=header,
        id=item.id,
        label=item.label,
        pose=Pose(position=center, orientation=Quaternion(x=float(x), y=float(y), z=float(z), w=float(w))),
        size=Vector3(x=float(size[0]), y=float(size[1]), z=float(size[2])),
        score=float(item.score),
    )


def _trajectory(item: TrajectoryResult, header: Header) -> Trajectory:
    positions = _points(item.positions)
    poses = [
        PoseStamped(
            header=Header(frame_id=header.frame_id, stamp=seconds_to_time(float(stamp_s))),
            pose=Pose(position=position, orientation=Quaternion(w=1.0)),
        )
        for stamp_s, position in zip(item.stamps, positions, strict=True)
    ]
    path_header = Header(frame_id=header.frame_id, stamp=poses[-1].header.stamp)
    return Trajectory(id=item.id, label=item.label, path=Path(header=path_header, poses=poses))


def _unit_quaternion(xyzw: Sequence[float]) -> np.ndarray:
    """``xyzw`` normalised (the identity when it has no length)."""
    quaternion = np.asarray(xyzw, dtype=np.float64)
    norm = float(np.linalg.norm(quaternion))
    return quaternion / norm if norm > 0 and math.isfinite(norm) else np.array([0.0, 0.0, 0.0, 1.0])
