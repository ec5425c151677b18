"""Shared fixtures of the agent loop tests: one sandboxed kernel pool per module, a written scene, agents."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from spatialclaw_ros.agent import Agent, AgentSettings, LLMSettings
from spatialclaw_ros.frames import FrameBuffer, depth_to_image, numpy_to_image, write_snapshot
from spatialclaw_ros.sandbox import Kernel, KernelPool, SandboxSettings

WIDTH, HEIGHT = 320, 240
K = np.array([[300.0, 0.0, 160.0], [0.0, 300.0, 120.0], [0.0, 0.0, 1.0]])
STAMP0_S = 1_700_000_000


def _message(fields, stamp_s: float, frame_id: str) -> SimpleNamespace:
    sec = int(stamp_s)
    header = SimpleNamespace(
        stamp=SimpleNamespace(sec=sec, nanosec=round((stamp_s - sec) * 1e9)), frame_id=frame_id
    )
    return SimpleNamespace(header=header, **fields.as_kwargs())


def write_scene(directory: Path, frames: int = 3) -> None:
    """Snapshot :func:`scene_buffer` into ``directory``."""
    write_snapshot(scene_buffer(frames), directory, window_s=60.0, max_frames=frames)


def scene_buffer(frames: int = 3) -> FrameBuffer:
    """A camera "front" looking at a wall 2 m away with a red square (pixels 100..139 x 80..119)."""
    buffer = FrameBuffer(keyframe_hz=float("inf"), history_s=60.0, max_memory_mb=64.0)
    buffer.configure_camera("front")
    info = SimpleNamespace(k=K.ravel().tolist(), width=WIDTH, height=HEIGHT)
    buffer.set_camera_info("front", info)
    buffer.set_camera_info("front", info, stream="depth")
    for k in range(frames):
        rgb = np.full((HEIGHT, WIDTH, 3), 200, np.uint8)
        rgb[80:120, 100 + 5 * k : 140 + 5 * k] = (220, 20, 20)
        depth = np.full((HEIGHT, WIDTH), 2.0, np.float32)
        stamp_s = STAMP0_S + 0.5 * k
        buffer.add_image("front", _message(numpy_to_image(rgb, "rgb8"), stamp_s, "front_optical"))
        buffer.add_depth("front", _message(depth_to_image(depth, "32FC1"), stamp_s, "front_optical"))
    return buffer


@pytest.fixture(scope="module")
def pool() -> Iterator[KernelPool]:
    kernels = KernelPool(SandboxSettings(mode="strict"), size=2)
    kernels.start()
    yield kernels
    kernels.close()


@pytest.fixture
def kernel(pool: KernelPool) -> Iterator[Kernel]:
    with pool.acquire(60.0) as acquired:
        write_scene(acquired.snapshot_dir)
        yield acquired


@pytest.fixture
def make_agent(tmp_path: Path) -> Iterator:
    agents: list[Agent] = []

    def make(base_url: str, llm: dict | None = None, **settings) -> Agent:
        llm_settings = LLMSettings(
            base_url=base_url, model="scripted-vlm", backoff_s=0.01, retries=2, **(llm or {})
        )
        options = {"planning": False, "trace_dir": tmp_path / "traces", "max_steps": 6, "timeout_s": 60.0}
        options.update(settings)
        agent = Agent(llm_settings, AgentSettings(**options))
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        agent.close()
