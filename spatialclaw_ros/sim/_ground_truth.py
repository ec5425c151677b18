"""The ground-truth document a simulator publishes: the scene, its label map, frames and time origin.

Convention:
    JSON text. Scene time ``t_s`` of a message stamped ``stamp_s`` (seconds of the publisher's
    clock) is ``stamp_s - time_origin_s``. Positions are in ``world_frame`` (REP-103), metres.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

from spatialclaw_ros.sim._scene import Scene


@dataclass(frozen=True)
class GroundTruth:
    """A published scene: rebuild answers at any stamp with ``scene.truth(scene_time_s(stamp_s))``."""

    scene: Scene
    world_frame: str
    time_origin_s: float
    optical_frames: Mapping[str, str]

    def scene_time_s(self, stamp_s: float) -> float:
        """Scene time of a message stamped ``stamp_s`` (publisher clock, seconds)."""
        return stamp_s - self.time_origin_s

    def to_json(self) -> str:
        """The JSON document (with the label map and the truth at scene time 0 for human readers)."""
        return json.dumps(
            {
                "world_frame": self.world_frame,
                "time_origin_s": self.time_origin_s,
                "optical_frames": dict(self.optical_frames),
                "label_map": {str(k): v for k, v in self.scene.label_map().items()},
                "scene": self.scene.to_dict(),
                "truth_at_origin": self.scene.truth(0.0).to_dict(),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> GroundTruth:
        """Parse :meth:`to_json` output; ValueError when it is not a ground-truth document."""
        try:
            data = json.loads(text)
            truth = cls(
                scene=Scene.from_dict(data["scene"]),
                world_frame=str(data["world_frame"]),
                time_origin_s=float(data["time_origin_s"]),
                optical_frames={str(k): str(v) for k, v in data["optical_frames"].items()},
            )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"not a ground-truth document: {error!r}") from None
        if not math.isfinite(truth.time_origin_s):
            raise ValueError("ground-truth time_origin_s must be finite")
        return truth


def label_map_json(scene: Scene) -> str:
    """The scene's label map as JSON: {"id": "label"} with string keys (JSON objects need them)."""
    return json.dumps({str(k): v for k, v in scene.label_map().items()})
