"""Simulated pinhole cameras: intrinsics from a horizontal field of view, and poses that may move.

Convention:
    World frame REP-103 (x east, y north, z up), metres. Camera optical frame REP-103 (x right,
    y down, z forward). ``T_world_camera(t_s)`` (4, 4) maps optical-frame points into the world.
    The camera is level (no roll): ``yaw_rad`` turns the viewing direction counter-clockwise from
    world +x, ``pitch_rad`` tilts it down (positive = looking down). Rectified, no distortion. The
    centre of pixel (row r, column c) is at (u, v) = (c, r), so the principal point of the
    symmetric camera is ((W - 1) / 2, (H - 1) / 2) and ``fx = fy = (W / 2) / tan(hfov / 2)``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from spatialclaw_ros.sim._checks import FloatArray, finite, positive, vector

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class CameraMotion:
    """A periodic sway of a camera about its rest pose, as a robot's head or a patrolling rig would move.

    ``offset(t) = offset_m * sin(2 pi t / period_s)`` is added to the position and
    ``yaw_rad * sin(2 pi t / period_s)`` to the yaw.
    """

    offset_m: tuple[float, float, float] = (0.0, 0.0, 0.0)
    yaw_rad: float = 0.0
    period_s: float = 10.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "offset_m", vector("CameraMotion.offset_m", self.offset_m, 3))
        object.__setattr__(self, "yaw_rad", finite("CameraMotion.yaw_rad", self.yaw_rad))
        object.__setattr__(self, "period_s", positive("CameraMotion.period_s", self.period_s))


@dataclass(frozen=True)
class SimCamera:
    """A level pinhole camera in the scene: resolution, horizontal field of view and pose."""

    name: str
    width: int
    height: int
    hfov_rad: float
    position_m: tuple[float, float, float]
    yaw_rad: float = 0.0
    pitch_rad: float = 0.0
    motion: CameraMotion | None = None
    _K: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise ValueError(
                f"SimCamera.name must be a ROS name token (letters, digits, _), got {self.name!r}"
            )
        for attribute in ("width", "height"):
            value = getattr(self, attribute)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 2:
                raise ValueError(f"SimCamera.{attribute} must be an integer >= 2, got {value!r}")
            object.__setattr__(self, attribute, int(value))
        hfov = finite("SimCamera.hfov_rad", self.hfov_rad)
        if not 0.0 < hfov < math.pi:
            raise ValueError(f"SimCamera.hfov_rad must lie in (0, pi), got {self.hfov_rad!r}")
        object.__setattr__(self, "hfov_rad", hfov)
        object.__setattr__(self, "position_m", vector("SimCamera.position_m", self.position_m, 3))
        object.__setattr__(self, "yaw_rad", finite("SimCamera.yaw_rad", self.yaw_rad))
        pitch = finite("SimCamera.pitch_rad", self.pitch_rad)
        if abs(pitch) >= 0.5 * math.pi:
            raise ValueError(f"SimCamera.pitch_rad must lie in (-pi/2, pi/2), got {self.pitch_rad!r}")
        object.__setattr__(self, "pitch_rad", pitch)
        f = 0.5 * self.width / math.tan(0.5 * hfov)
        K = np.array([[f, 0.0, 0.5 * (self.width - 1)], [0.0, f, 0.5 * (self.height - 1)], [0.0, 0.0, 1.0]])
        K.flags.writeable = False
        object.__setattr__(self, "_K", K)

    @classmethod
    def looking_at(
        cls,
        name: str,
        position_m: Sequence[float],
        target_m: Sequence[float],
        width: int = 640,
        height: int = 480,
        hfov_rad: float = math.radians(70.0),
        motion: CameraMotion | None = None,
    ) -> SimCamera:
        """A level camera at ``position_m`` whose optical axis passes through ``target_m`` (world, metres)."""
        eye = np.asarray(vector("position_m", position_m, 3))
        delta = np.asarray(vector("target_m", target_m, 3)) - eye
        horizontal = math.hypot(delta[0], delta[1])
        if horizontal == 0.0:
            raise ValueError("target_m must not lie straight above or below position_m (the camera is level)")
        return cls(
            name=name,
            width=width,
            height=height,
            hfov_rad=hfov_rad,
            position_m=tuple(eye),
            yaw_rad=math.atan2(delta[1], delta[0]),
            pitch_rad=math.atan2(-delta[2], horizontal),
            motion=motion,
        )

    @property
    def K(self) -> FloatArray:
        """Intrinsic matrix (3, 3), pixels (read-only)."""
        return self._K

    @property
    def vfov_rad(self) -> float:
        """Vertical field of view, radians."""
        return 2.0 * math.atan(0.5 * self.height / self._K[1, 1])

    def pose_at(self, t_s: float) -> tuple[FloatArray, float, float]:
        """Position (3,) in metres, yaw and pitch in radians at scene time ``t_s``."""
        position = np.asarray(self.position_m)
        yaw = self.yaw_rad
        if self.motion is not None:
            phase = math.sin(2.0 * math.pi * finite("t_s", t_s) / self.motion.period_s)
            position = position + phase * np.asarray(self.motion.offset_m)
            yaw += phase * self.motion.yaw_rad
        return position, yaw, self.pitch_rad

    def T_world_camera(self, t_s: float = 0.0) -> FloatArray:
        """Pose (4, 4) at scene time ``t_s``: maps camera-optical points into the world frame."""
        position, yaw, pitch = self.pose_at(t_s)
        forward = np.array(
            [math.cos(pitch) * math.cos(yaw), math.cos(pitch) * math.sin(yaw), -math.sin(pitch)]
        )
        right = np.array([math.sin(yaw), -math.cos(yaw), 0.0])
        down = np.cross(forward, right)
        T = np.eye(4)
        T[:3, :3] = np.column_stack([right, down, forward])
        T[:3, 3] = position
        return T

    def world_to_optical(
        self, points_world: Sequence[Sequence[float]] | FloatArray, t_s: float = 0.0
    ) -> FloatArray:
        """World points (N, 3) or (3,) expressed in the optical frame at scene time ``t_s``, metres."""
        points = np.asarray(points_world, dtype=float)
        if points.shape[-1:] != (3,) or points.ndim > 2:
            raise ValueError(f"points_world must have shape (3,) or (N, 3), got {points.shape}")
        T = self.T_world_camera(t_s)
        return (points - T[:3, 3]) @ T[:3, :3]
