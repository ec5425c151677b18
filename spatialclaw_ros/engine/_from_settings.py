"""The settings of the engine's parts, from the node's settings tree (one place for every front end)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from spatialclaw_ros.agent import AgentSettings, LLMSettings, PerceptionUpstream
from spatialclaw_ros.engine._engine import QueryDefaults
from spatialclaw_ros.engine._perception_link import PerceptionLink, open_perception
from spatialclaw_ros.perception import PerceptionSettings
from spatialclaw_ros.sandbox import SandboxSettings
from spatialclaw_ros.settings import NodeSettings


def llm_settings(settings: NodeSettings) -> LLMSettings:
    """The VLM client's endpoint (``llm.*``); sampling and retries keep their defaults."""
    return LLMSettings(
        base_url=settings.llm.base_url, model=settings.llm.model, api_key_env=settings.llm.api_key_env
    )


def agent_settings(
    settings: NodeSettings, trace_dir: Path | None, perception: PerceptionUpstream | None = None
) -> AgentSettings:
    """The agent loop's budgets (``agent.*``); traces go to ``trace_dir`` (``trace.dir`` resolved).

    ``perception`` is where each query's relay forwards its kernel's perception calls (None: nowhere).
    """
    return AgentSettings(
        max_steps=settings.agent.max_steps,
        timeout_s=settings.agent.timeout_s,
        planning=settings.agent.planning,
        key_frames=settings.agent.key_frames,
        max_images_per_step=settings.agent.max_images_per_step,
        max_images_per_query=settings.agent.max_images_per_query,
        trace_dir=trace_dir,
        trace_max_mb=settings.trace.max_mb,
        perception=perception,
    )


def perception_settings(settings: NodeSettings) -> PerceptionSettings:
    """The perception service's backends and weights (``perception.*``)."""
    perception = settings.perception
    return PerceptionSettings(
        segmenter=perception.segmenter,
        depth=perception.depth,
        reconstructor=perception.reconstructor,
        device=perception.device,
        sam3_model=perception.sam3_model,
        da3_depth_model=perception.da3_depth_model,
        da3_reconstruct_model=perception.da3_reconstruct_model,
        max_request_mb=perception.max_request_mb,
    )


def perception_link(settings: NodeSettings) -> PerceptionLink:
    """Start or reach the perception service of ``perception.*`` (see :func:`open_perception`).

    The bearer token is read here, from the variable ``perception.token_env`` names, and goes only to
    the node's relays.
    """
    section = settings.perception
    token = os.environ.get(section.token_env) if section.token_env else None
    return open_perception(
        section.url, perception_settings(settings), token=token or None, service_user=section.service_user
    )


def sandbox_settings(settings: NodeSettings) -> SandboxSettings:
    """The kernels' sandbox (``kernel.*``)."""
    return SandboxSettings(mode=settings.kernel.sandbox, kernel_python=settings.kernel.python)


def query_defaults(settings: NodeSettings, depth_required: Sequence[str] = ()) -> QueryDefaults:
    """What a request's empty fields stand for (``cameras``, ``target_frame``, ``agent.*``, ``output.*``)."""
    return QueryDefaults(
        cameras=settings.cameras,
        target_frame=settings.target_frame,
        max_frames=settings.agent.max_frames,
        timeout_s=settings.agent.timeout_s,
        max_steps=settings.agent.max_steps,
        sandbox_off=settings.kernel.sandbox == "off",
        points_stride=settings.output.points_stride if settings.output.points else None,
        depth_required=tuple(depth_required),
    )
