"""The code-as-action agent: VLM client, prompts, response parsing, the loop, traces (no ROS).

The node builds an :class:`Agent` from :class:`LLMSettings` and :class:`AgentSettings`, checks the
endpoint with :meth:`Agent.check_model` at configure time, and answers each query with
:meth:`Agent.run` in a kernel acquired from the sandbox pool (the snapshot already written into
``kernel.snapshot_dir``). The result is a :class:`QueryOutcome`; its ``error_code`` names one of the
``SpatialAnswer`` error constants (:class:`ErrorCode`).

The loop reaches the outside through two seams: an :class:`Executor` (the query's kernel;
``sandbox.Kernel`` is the real one) and a :class:`ChatModel` (the VLM; by default an
OpenAI-compatible client of :class:`LLMSettings`, or the one passed to :class:`Agent`).
"""

from spatialclaw_ros.agent._agent import Agent
from spatialclaw_ros.agent._chat_model import (
    ChatModel,
    ChatResult,
    ContextOverflowError,
    DeadlineError,
    ModelHealth,
    ModelUnavailableError,
    RequestRejectedError,
)
from spatialclaw_ros.agent._executor import Executor
from spatialclaw_ros.agent._perception_relay import PerceptionUpstream
from spatialclaw_ros.agent._settings import AgentSettings, LLMSettings, RoleSettings
from spatialclaw_ros.agent._types import (
    CancelToken,
    ErrorCode,
    MeasurementResult,
    ObjectResult,
    Progress,
    ProgressCallback,
    QueryOutcome,
    QueryRequest,
    TrajectoryResult,
)

__all__ = [
    "Agent",
    "AgentSettings",
    "CancelToken",
    "ChatModel",
    "ChatResult",
    "ContextOverflowError",
    "DeadlineError",
    "ErrorCode",
    "Executor",
    "LLMSettings",
    "MeasurementResult",
    "ModelHealth",
    "ModelUnavailableError",
    "ObjectResult",
    "PerceptionUpstream",
    "Progress",
    "ProgressCallback",
    "QueryOutcome",
    "QueryRequest",
    "RequestRejectedError",
    "RoleSettings",
    "TrajectoryResult",
]
