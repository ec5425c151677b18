"""Settings of the VLM client and of the agent loop (frozen; the node builds them from its parameters)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spatialclaw_ros.agent._perception_relay import PerceptionUpstream

ROLES = ("plan", "step", "vlm_ask", "final")


@dataclass(frozen=True)
class RoleSettings:
    """Sampling of one kind of VLM call: ``temperature`` and the most completion tokens."""

    temperature: float = 0.0
    max_tokens: int = 2048

    def __post_init__(self) -> None:
        """Reject values no server accepts."""
        if not (0.0 <= self.temperature <= 2.0):
            raise ValueError(f"temperature must be in [0, 2], got {self.temperature}")
        if self.max_tokens < 16:
            raise ValueError(f"max_tokens must be at least 16, got {self.max_tokens}")


@dataclass(frozen=True)
class LLMSettings:
    """How to reach the OpenAI-compatible endpoint (vLLM, OpenAI, Gemini's or Ollama's compatible APIs).

    Attributes:
        base_url: endpoint root, e.g. ``http://localhost:8000/v1``.
        model: model name; empty: the first model the endpoint lists.
        api_key_env: NAME of the environment variable holding the key (the key is read when the
            client starts and is never stored in settings, logs, traces or kernels); unset: no key.
        plan, step, vlm_ask, final: temperature and max_tokens per kind of call.
        timeout_s: limit of one HTTP call, seconds (the query's own budget may cut it shorter).
        retries: extra attempts after a 429, a 5xx or a connection error.
        backoff_s: delay before the first retry, doubled at each further one (with jitter, at most 8 s).
        context_tokens: the model's context window; max_tokens is clamped so prompt + completion fit.
        max_image_side_px: images sent to the model are downscaled to this long side (never upscaled).
        jpeg_quality: JPEG quality of the images sent to the model.
    """

    base_url: str = "http://localhost:8000/v1"
    model: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    plan: RoleSettings = field(default_factory=lambda: RoleSettings(temperature=0.2, max_tokens=1024))
    step: RoleSettings = field(default_factory=lambda: RoleSettings(temperature=0.2, max_tokens=2048))
    vlm_ask: RoleSettings = field(default_factory=lambda: RoleSettings(temperature=0.0, max_tokens=512))
    final: RoleSettings = field(default_factory=lambda: RoleSettings(temperature=0.0, max_tokens=1024))
    timeout_s: float = 120.0
    retries: int = 3
    backoff_s: float = 0.5
    context_tokens: int = 32_768
    max_image_side_px: int = 1024
    jpeg_quality: int = 85

    def __post_init__(self) -> None:
        """Reject settings that cannot work."""
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {self.base_url!r}")
        if not self.api_key_env.replace("_", "").isalnum() and self.api_key_env:
            raise ValueError(f"api_key_env must be an environment variable name, got {self.api_key_env!r}")
        if not self.timeout_s > 0 or self.retries < 0 or self.backoff_s < 0:
            raise ValueError("timeout_s must be > 0, retries and backoff_s >= 0")
        if self.context_tokens < 1024:
            raise ValueError(f"context_tokens must be at least 1024, got {self.context_tokens}")
        if not 64 <= self.max_image_side_px <= 4096:
            raise ValueError(f"max_image_side_px must be in [64, 4096], got {self.max_image_side_px}")
        if not 10 <= self.jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality must be in [10, 100], got {self.jpeg_quality}")

    def role(self, name: str) -> RoleSettings:
        """The settings of one role: ``plan``, ``step``, ``vlm_ask`` or ``final``."""
        if name not in ROLES:
            raise ValueError(f"unknown role {name!r}; expected one of {ROLES}")
        return getattr(self, name)


@dataclass(frozen=True)
class AgentSettings:
    """Budgets and behaviour of the agent loop.

    Attributes:
        max_steps: most code cells the model may run for one query.
        timeout_s: default time budget of one query, seconds (a request may set its own).
        planning: a text-only planning call comes before the first cell.
        key_frames: frames sent as images with the question (spread over the snapshot's time span).
        max_images_per_step: most ``show()`` images one observation carries.
        max_images_per_query: most ``show()`` images over the whole query.
        max_failures: replies without a usable cell and invalid answers allowed before the query fails.
        final_answer: when the step or time budget runs out, one answer-only call may still answer.
        final_reserve_s: seconds of ``timeout_s`` kept for that call (at most a quarter of the budget).
        cell_timeout_s: most seconds one cell may run.
        output_max_chars: stdout and stderr each, in an observation (head and tail kept).
        vlm_ask_max_calls: most ``vlm.ask`` calls one query may make.
        trace_dir: where traces go (one directory per query); ``None``: no traces.
        trace_max_mb: total size of ``trace_dir``; the oldest traces are deleted beyond it.
        perception: the perception service each query's kernel reaches through its own relay;
            ``None``: kernels get no perception socket (``tools.*`` answer PERCEPTION_UNAVAILABLE).
    """

    max_steps: int = 12
    timeout_s: float = 120.0
    planning: bool = True
    key_frames: int = 4
    max_images_per_step: int = 4
    max_images_per_query: int = 24
    max_failures: int = 3
    final_answer: bool = True
    final_reserve_s: float = 15.0
    cell_timeout_s: float = 120.0
    output_max_chars: int = 4_000
    vlm_ask_max_calls: int = 20
    trace_dir: Path | None = None
    trace_max_mb: float = 500.0
    perception: PerceptionUpstream | None = None

    def __post_init__(self) -> None:
        """Reject budgets that cannot work."""
        checks = {
            "max_steps": self.max_steps >= 1,
            "timeout_s": math.isfinite(self.timeout_s) and self.timeout_s > 0,
            "key_frames": self.key_frames >= 0,
            "max_images_per_step": self.max_images_per_step >= 0,
            "max_images_per_query": self.max_images_per_query >= 0,
            "max_failures": self.max_failures >= 1,
            "final_reserve_s": self.final_reserve_s >= 0,
            "cell_timeout_s": self.cell_timeout_s > 0,
            "output_max_chars": self.output_max_chars >= 200,
            "vlm_ask_max_calls": self.vlm_ask_max_calls >= 0,
            "trace_max_mb": self.trace_max_mb > 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"AgentSettings.{name} is out of range: {getattr(self, name)!r}")
