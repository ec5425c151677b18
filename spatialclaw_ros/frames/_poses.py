"""Camera poses for buffered frames: a time-indexed pose track with interpolation, and pose sources.

Convention:
    - ``T_a_b`` is a 4×4 homogeneous transform that maps points in frame ``b`` into frame ``a``
      (``p_a = T_a_b @ p_b``); translations in metres.
    - Quaternions are ``(x, y, z, w)`` (ROS order), unit norm.
    - ``T_world_camera`` maps camera-optical-frame points (REP-103: x right, y down, z forward)
      into the world frame; with a pose topic it is ``T_world_body(t) @ T_body_camera``.
    - Stamps are integer nanoseconds of the ROS clock that stamps the messages.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

from spatialclaw_ros.geometry import make_transform, quat_slerp

from ._errors import PoseLookupError

_NS = 1_000_000_000


def pose_matrix(position_m: Sequence[float], quaternion_xyzw: Sequence[float]) -> np.ndarray:
    """4×4 ``T_parent_child`` from a translation (m) and a quaternion ``(x, y, z, w)`` (normalised first).

    Raises:
        ValueError: a non-finite translation or a zero/non-finite quaternion.
    """
    return make_transform(np.asarray(quaternion_xyzw, dtype=np.float64), position_m)


def transform_from_parameter(values: Sequence[float], name: str) -> np.ndarray | None:
    """4×4 transform of a ``[x, y, z, qx, qy, qz, qw]`` parameter; ``None`` when the list is empty.

    Raises:
        ValueError: a list that is neither empty nor 7 finite numbers forming a rotation.
    """
    if len(values) == 0:
        return None
    numbers = np.asarray(values, dtype=np.float64)
    if numbers.shape != (7,) or not np.all(np.isfinite(numbers)) or np.linalg.norm(numbers[3:]) < 1e-9:
        raise ValueError(f"{name} must be [x, y, z, qx, qy, qz, qw] (m, unit quaternion), got {list(values)}")
    return pose_matrix(numbers[:3], numbers[3:])


class PoseTrack:
    """Thread-safe history of one body's poses in a world frame, interpolated at any stamp.

    Positions interpolate linearly, orientations by spherical linear interpolation between the
    two samples around the stamp. A stamp up to ``max_extrapolation_s`` past either end gets the
    end pose; two samples further apart than ``max_gap_s`` are not interpolated.
    """

    def __init__(self, history_s: float, max_gap_s: float = 0.5, max_extrapolation_s: float = 0.1) -> None:
        if history_s <= 0 or max_gap_s <= 0 or max_extrapolation_s < 0:
            raise ValueError("history_s and max_gap_s must be > 0, max_extrapolation_s >= 0")
        self._history_ns = int(history_s * _NS)
        self._max_gap_ns = int(max_gap_s * _NS)
        self._max_extrapolation_ns = int(max_extrapolation_s * _NS)
        self._lock = threading.Lock()
        self._stamps_ns: list[int] = []
        self._positions: list[np.ndarray] = []
        self._quaternions: list[np.ndarray] = []
        self._frame_id = ""

    @property
    def frame_id(self) -> str:
        """World frame of the poses (the ``header.frame_id`` of the latest sample)."""
        return self._frame_id

    def __len__(self) -> int:
        return len(self._stamps_ns)

    def add(
        self, stamp_ns: int, position_m: Sequence[float], quaternion_xyzw: Sequence[float], frame_id: str
    ) -> None:
        """Record ``T_world_body`` at ``stamp_ns``; samples older than ``history_s`` are dropped.

        Raises:
            ValueError: a non-finite position or a quaternion that is not a rotation.
        """
        position = np.asarray(position_m, dtype=np.float64).reshape(3)
        quaternion = np.asarray(quaternion_xyzw, dtype=np.float64).reshape(4)
        norm = float(np.linalg.norm(quaternion))
        if not (np.all(np.isfinite(position)) and np.isfinite(norm) and norm > 1e-12):
            raise ValueError(f"pose sample at {stamp_ns} ns is not finite or not a rotation")
        with self._lock:
            index = bisect.bisect_left(self._stamps_ns, stamp_ns)
            if index < len(self._stamps_ns) and self._stamps_ns[index] == stamp_ns:
                self._positions[index], self._quaternions[index] = position, quaternion / norm
            else:
                self._stamps_ns.insert(index, stamp_ns)
                self._positions.insert(index, position)
                self._quaternions.insert(index, quaternion / norm)
            self._frame_id = frame_id
            horizon = self._stamps_ns[-1] - self._history_ns
            old = bisect.bisect_left(self._stamps_ns, horizon)
            if old > 0:
                del self._stamps_ns[:old], self._positions[:old], self._quaternions[:old]

    def T_world_body(self, stamp_ns: int) -> np.ndarray:
        """4×4 pose interpolated at ``stamp_ns``.

        Raises:
            PoseLookupError: no sample, the stamp is outside the track (beyond the extrapolation
                tolerance), or the samples around it are more than ``max_gap_s`` apart.
        """
        with self._lock:
            stamps = self._stamps_ns
            if not stamps:
                raise PoseLookupError("no pose received yet")
            index = bisect.bisect_left(stamps, stamp_ns)
            if index < len(stamps) and stamps[index] == stamp_ns:
                return pose_matrix(self._positions[index], self._quaternions[index])
            if index == 0 or index == len(stamps):
                end = 0 if index == 0 else len(stamps) - 1
                if abs(stamps[end] - stamp_ns) > self._max_extrapolation_ns:
                    raise PoseLookupError(
                        f"stamp {stamp_ns / _NS:.3f} s is outside the poses received "
                        f"[{stamps[0] / _NS:.3f}, {stamps[-1] / _NS:.3f}] s"
                    )
                return pose_matrix(self._positions[end], self._quaternions[end])
            before, after = stamps[index - 1], stamps[index]
            if after - before > self._max_gap_ns:
                raise PoseLookupError(
                    f"poses around {stamp_ns / _NS:.3f} s are {(after - before) / _NS:.3f} s apart "
                    f"(more than {self._max_gap_ns / _NS:g} s)"
                )
            alpha = (stamp_ns - before) / (after - before)
            p0, p1 = self._positions[index - 1], self._positions[index]
            q = quat_slerp(self._quaternions[index - 1], self._quaternions[index], alpha)
            return pose_matrix(p0 + alpha * (p1 - p0), q)


class PoseSource(Protocol):
    """Where the camera poses of a snapshot come from (tf2, a pose topic, …)."""

    def camera_pose(
        self, camera: str, frame_id: str, stamp_ns: int, target_frame: str
    ) -> tuple[np.ndarray, str]:
        """``(T_world_camera, world_frame)`` of a camera's optical frame at ``stamp_ns``.

        ``target_frame`` names the wanted world frame ("" for the source's own).

        Raises:
            PoseLookupError: no pose for that frame at that stamp.
        """
        ...

    def relative_transform(self, target_frame_id: str, source_frame_id: str, stamp_ns: int) -> np.ndarray:
        """4×4 ``T_target_source`` between two sensor frames at ``stamp_ns``.

        Raises:
            PoseLookupError: the transform is unknown.
        """
        ...


class TopicPoseSource:
    """Camera poses from a body pose track (PoseStamped/Odometry topic) and static camera extrinsics.

    ``extrinsics[camera]`` is ``T_body_camera`` (camera optical frame → body frame); a camera
    without one is taken to be the body itself.
    """

    def __init__(self, track: PoseTrack, extrinsics: Mapping[str, np.ndarray]) -> None:
        self.track = track
        self._extrinsics = {name: np.asarray(T, dtype=np.float64) for name, T in extrinsics.items()}

    def camera_pose(
        self, camera: str, frame_id: str, stamp_ns: int, target_frame: str
    ) -> tuple[np.ndarray, str]:
        """``T_world_body(stamp) @ T_body_camera`` in the pose topic's frame (see :class:`PoseSource`)."""
        world_frame = self.track.frame_id
        if target_frame and world_frame and target_frame != world_frame:
            raise PoseLookupError(
                f"poses are in {world_frame!r}, not in the requested frame {target_frame!r} "
                "(a pose topic gives one frame only; use tf for others)"
            )
        T_world_body = self.track.T_world_body(stamp_ns)
        T_body_camera = self._extrinsics.get(camera)
        return (T_world_body if T_body_camera is None else T_world_body @ T_body_camera), world_frame

    def relative_transform(self, target_frame_id: str, source_frame_id: str, stamp_ns: int) -> np.ndarray:
        """Never known to a pose topic (see :class:`PoseSource`)."""
        raise PoseLookupError(
            f"a pose topic does not know the transform {source_frame_id!r} → {target_frame_id!r}"
        )
