"""Known paths of moving objects: position, velocity and heading at any scene time.

Convention:
    Positions are (x, y) in the world frame (REP-103, z up), metres; times are scene seconds
    (``t_s = 0`` when the scene starts); velocities are metres per second; headings are radians
    counter-clockwise from world +x, in (-pi, pi]. Objects keep their height while they move.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from spatialclaw_ros.sim._checks import finite, non_negative, positive, vector


@dataclass(frozen=True)
class LinearPath:
    """Back and forth along the segment ``start_xy`` → ``end_xy`` at a constant speed.

    At ``t_s = 0`` the object is ``offset_m`` metres along the round trip (0: at ``start_xy``,
    heading for ``end_xy``); it turns round instantly at either end.
    """

    start_xy: tuple[float, float]
    end_xy: tuple[float, float]
    speed_mps: float
    offset_m: float = 0.0
    kind: Literal["linear"] = "linear"

    def __post_init__(self) -> None:
        object.__setattr__(self, "start_xy", vector("LinearPath.start_xy", self.start_xy, 2))
        object.__setattr__(self, "end_xy", vector("LinearPath.end_xy", self.end_xy, 2))
        object.__setattr__(self, "speed_mps", positive("LinearPath.speed_mps", self.speed_mps))
        object.__setattr__(self, "offset_m", non_negative("LinearPath.offset_m", self.offset_m))
        if self.length_m <= 0.0:
            raise ValueError("LinearPath.start_xy and end_xy must differ")

    @property
    def length_m(self) -> float:
        """Length of the segment, metres."""
        return math.dist(self.start_xy, self.end_xy)

    @property
    def period_s(self) -> float:
        """Duration of one round trip, seconds."""
        return 2.0 * self.length_m / self.speed_mps

    def _state(self, t_s: float) -> tuple[tuple[float, float], tuple[float, float]]:
        length = self.length_m
        ux, uy = ((e - s) / length for s, e in zip(self.start_xy, self.end_xy, strict=True))
        s = (self.offset_m + self.speed_mps * finite("t_s", t_s)) % (2.0 * length)
        if s < length:
            return (self.start_xy[0] + ux * s, self.start_xy[1] + uy * s), (ux, uy)
        back = s - length
        return (self.end_xy[0] - ux * back, self.end_xy[1] - uy * back), (-ux, -uy)

    def position_xy(self, t_s: float) -> tuple[float, float]:
        """Position (x, y) at scene time ``t_s``, metres."""
        return self._state(t_s)[0]

    def velocity_xy(self, t_s: float) -> tuple[float, float]:
        """Velocity (vx, vy) at scene time ``t_s``, m/s (the outgoing leg at a turning point)."""
        _, (ux, uy) = self._state(t_s)
        return (ux * self.speed_mps, uy * self.speed_mps)

    def turn_times_s(self, t0_s: float, t1_s: float) -> tuple[float, ...]:
        """Scene times in [t0_s, t1_s] at which the object turns round."""
        half = 0.5 * self.period_s
        first = math.ceil((finite("t0_s", t0_s) * self.speed_mps + self.offset_m) / self.length_m)
        times = []
        k = max(first, 1)
        while (t := k * half - self.offset_m / self.speed_mps) <= finite("t1_s", t1_s):
            if t >= t0_s:
                times.append(t)
            k += 1
        return tuple(times)


@dataclass(frozen=True)
class CircularPath:
    """Round a circle at a constant speed; positive ``speed_mps`` turns counter-clockwise.

    At ``t_s = 0`` the object is at angle ``phase_rad`` (from world +x) on the circle.
    """

    centre_xy: tuple[float, float]
    radius_m: float
    speed_mps: float
    phase_rad: float = 0.0
    kind: Literal["circular"] = "circular"

    def __post_init__(self) -> None:
        object.__setattr__(self, "centre_xy", vector("CircularPath.centre_xy", self.centre_xy, 2))
        object.__setattr__(self, "radius_m", positive("CircularPath.radius_m", self.radius_m))
        object.__setattr__(self, "speed_mps", finite("CircularPath.speed_mps", self.speed_mps))
        if self.speed_mps == 0.0:
            raise ValueError("CircularPath.speed_mps must not be 0")
        object.__setattr__(self, "phase_rad", finite("CircularPath.phase_rad", self.phase_rad))

    @property
    def period_s(self) -> float:
        """Duration of one lap, seconds."""
        return 2.0 * math.pi * self.radius_m / abs(self.speed_mps)

    def _angle(self, t_s: float) -> float:
        return self.phase_rad + self.speed_mps * finite("t_s", t_s) / self.radius_m

    def position_xy(self, t_s: float) -> tuple[float, float]:
        """Position (x, y) at scene time ``t_s``, metres."""
        angle = self._angle(t_s)
        return (
            self.centre_xy[0] + self.radius_m * math.cos(angle),
            self.centre_xy[1] + self.radius_m * math.sin(angle),
        )

    def velocity_xy(self, t_s: float) -> tuple[float, float]:
        """Velocity (vx, vy) at scene time ``t_s``, m/s (tangent to the circle)."""
        angle = self._angle(t_s)
        return (-self.speed_mps * math.sin(angle), self.speed_mps * math.cos(angle))

    def turn_times_s(self, t0_s: float, t1_s: float) -> tuple[float, ...]:
        """Scene times in [t0_s, t1_s] at which the object turns round: never on a circle."""
        finite("t0_s", t0_s)
        finite("t1_s", t1_s)
        return ()


Path = LinearPath | CircularPath


def heading_rad(velocity_xy: tuple[float, float]) -> float:
    """Heading of a horizontal velocity, radians counter-clockwise from world +x, in (-pi, pi]."""
    return math.atan2(velocity_xy[1], velocity_xy[0])
