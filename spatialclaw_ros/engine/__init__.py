"""The query engine, without ROS: a request in, an answer out, from any frame source.

:class:`QueryEngine` checks a :class:`Request` once, holds its time budget and cancellation, takes
a kernel, writes the snapshot from a :class:`~spatialclaw_ros.frames.FrameSource`, runs the agent and
returns an :class:`Answer` (plain dataclasses mirroring srv/SpatialQuery and msg/SpatialAnswer). The
ROS node, and the offline front ends, only translate to and from these types.
"""

from spatialclaw_ros.engine._answer import Answer, SourceFrame
from spatialclaw_ros.engine._engine import QueryDefaults, QueryEngine, QueryResult, no_silence
from spatialclaw_ros.engine._from_settings import (
    agent_settings,
    llm_settings,
    perception_link,
    perception_settings,
    query_defaults,
    sandbox_settings,
)
from spatialclaw_ros.engine._perception_link import PerceptionLink, PerceptionLinkError, open_perception
from spatialclaw_ros.engine._points import MAX_POINTS, snapshot_points
from spatialclaw_ros.engine._request import ANSWER_TYPES, MAX_FRAMES, MAX_TIMEOUT_S, Request, new_query_id
from spatialclaw_ros.engine._slots import QuerySlots

__all__ = [
    "ANSWER_TYPES",
    "MAX_FRAMES",
    "MAX_POINTS",
    "MAX_TIMEOUT_S",
    "Answer",
    "PerceptionLink",
    "PerceptionLinkError",
    "QueryDefaults",
    "QueryEngine",
    "QueryResult",
    "QuerySlots",
    "Request",
    "SourceFrame",
    "agent_settings",
    "llm_settings",
    "new_query_id",
    "no_silence",
    "open_perception",
    "perception_link",
    "perception_settings",
    "query_defaults",
    "sandbox_settings",
    "snapshot_points",
]
