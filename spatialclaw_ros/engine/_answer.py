"""An answer without ROS types: msg/SpatialAnswer.msg's fields, in SI units and seconds.

Convention:
    Every point, centre, orientation and position is in ``frame_id``, the snapshot's world frame (the
    query's target frame when camera poses are known in it). Stamps are seconds of the clock that
    stamped the images; ``elapsed_s`` is wall time from the request's arrival.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from spatialclaw_ros.agent import MeasurementResult, ObjectResult, TrajectoryResult
from spatialclaw_ros.frames import SnapshotFrame
from spatialclaw_ros.protocol import ErrorCode


@dataclass(frozen=True)
class SourceFrame:
    """One frame an answer was computed from: camera, stamp, and where its depth came from.

    ``depth_source`` is ``"sensor"`` or ``""`` (no depth); ``depth_offset_s`` the depth stamp minus the
    colour stamp (s; NaN without depth); ``depth_missing`` True when the camera sends depth but this
    frame has none.
    """

    camera: str
    stamp_ns: int
    depth_source: str
    depth_offset_s: float
    depth_missing: bool

    @classmethod
    def of(cls, frame: SnapshotFrame) -> SourceFrame:
        """What an answer says of one snapshot frame."""
        has_depth = frame.depth is not None and frame.depth_stamp_ns is not None
        return cls(
            camera=frame.camera,
            stamp_ns=frame.stamp_ns,
            depth_source="sensor" if has_depth else "",
            depth_offset_s=(frame.depth_stamp_ns - frame.stamp_ns) / 1e9 if has_depth else math.nan,
            depth_missing=frame.depth is None and frame.depth_expected,
        )


@dataclass(frozen=True)
class Answer:
    """The answer to one query; when ``error_code`` is not ``NONE`` only the error fields are meaningful."""

    query_id: str
    question: str
    error_code: ErrorCode = ErrorCode.NONE
    error_message: str = ""
    answer: str = ""
    frame_id: str = ""
    measurements: tuple[MeasurementResult, ...] = ()
    objects: tuple[ObjectResult, ...] = ()
    trajectories: tuple[TrajectoryResult, ...] = ()
    source_stamps: tuple[float, ...] = ()
    source_frames: tuple[SourceFrame, ...] = ()
    steps: int = 0
    elapsed_s: float = 0.0
    trace_uri: str = ""

    @classmethod
    def failure(
        cls, query_id: str, question: str, code: ErrorCode, message: str, frame_id: str, elapsed_s: float
    ) -> Answer:
        """An answer that reports ``code`` and why, and nothing else."""
        return cls(query_id, question, code, message, frame_id=frame_id, elapsed_s=elapsed_s)

    @property
    def ok(self) -> bool:
        """True when the query was answered."""
        return self.error_code == ErrorCode.NONE
