"""What the model is told before its first cell: the system prompt, and the task read from the snapshot.

The task turn holds the question, the expected kind of answer, an overview of the frames per camera
and a few key frames as images, spread over each camera's time span.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from spatialclaw_ros.agent import _prompts
from spatialclaw_ros.agent._conversation import Turn
from spatialclaw_ros.agent._executor import Executor
from spatialclaw_ros.agent._failure import QueryError
from spatialclaw_ros.agent._images import EncodedImage, encode_rgb
from spatialclaw_ros.agent._query import Query
from spatialclaw_ros.agent._settings import AgentSettings
from spatialclaw_ros.agent._types import ErrorCode

if TYPE_CHECKING:
    from spatialclaw_ros.runtime.frames import Frames


def system_prompt(settings: AgentSettings) -> str:
    """The system prompt: the rules, the budgets, and the API reference of ``tools`` and ``geo``."""
    from spatialclaw_ros import geometry
    from spatialclaw_ros.runtime import tools

    tools_reference = _prompts.render("tools", reference=_prompts.api_reference("tools", tools))
    return _prompts.render(
        "system",
        max_steps=settings.max_steps,
        tools_reference=tools_reference,
        geo_reference=_prompts.api_reference("geo", geometry),
        max_images_per_step=settings.max_images_per_step,
        max_images_per_query=settings.max_images_per_query,
    )


def read_snapshot(query: Query, executor: Executor) -> Frames:
    """The frames of the executor's snapshot; records their stamps and world frame in ``query``.

    Raises:
        QueryError: ``NO_DATA`` when the snapshot cannot be read or holds no frame.
    """
    from spatialclaw_ros.runtime.frames import load_frames

    with query.stages.measure("snapshot"):
        try:
            frames = load_frames(executor.snapshot_dir)
        except (OSError, ValueError, KeyError) as error:
            raise QueryError(ErrorCode.NO_DATA, f"the snapshot cannot be read: {error}") from None
        if len(frames) == 0:
            raise QueryError(ErrorCode.NO_DATA, "the snapshot holds no frames")
        query.source_stamps = tuple(sorted({float(frame.stamp) for frame in frames}))
        query.world_frame = str(frames[0].world_frame)
    query.trace.event(
        "snapshot",
        frames=len(frames),
        cameras=list(frames.cameras),
        first_stamp=query.source_stamps[0],
        last_stamp=query.source_stamps[-1],
        world_frame=query.world_frame,
    )
    return frames


def task_turn(query: Query, frames: Frames) -> Turn:
    """The user turn that states the task, with the key frames as images (encoded once per query)."""
    t0 = query.source_stamps[0]
    llm = query.llm
    with query.stages.measure("key_frames"):
        images = [
            encode_rgb(
                np.asarray(frames[index].image),
                f"frame {index} · {frames[index].camera} · t = +{float(frames[index].stamp) - t0:.2f} s",
                llm.max_image_side_px,
                llm.jpeg_quality,
            )
            for index in key_frame_indices(frames, query.settings.key_frames)
        ]
    with query.stages.measure("prompt"):
        return _task_text_turn(query, frames, images)


def key_frame_indices(frames: Sequence[Any], count: int) -> list[int]:
    """Up to ``count`` frame indices spread over each camera's time span (the latest frame included)."""
    if count <= 0:
        return []
    by_camera: dict[str, list[int]] = {}
    for index, frame in enumerate(frames):
        by_camera.setdefault(str(frame.camera), []).append(index)
    cameras = list(by_camera)
    chosen: list[int] = []
    for rank, camera in enumerate(cameras):
        share = count // len(cameras) + (1 if rank < count % len(cameras) else 0)
        indices = by_camera[camera]
        if share <= 0:
            continue
        if share >= len(indices):
            chosen.extend(indices)
            continue
        positions = np.linspace(0, len(indices) - 1, share).round().astype(int)
        chosen.extend(indices[p] for p in sorted(set(positions.tolist())))
    return sorted(chosen)


def _task_text_turn(query: Query, frames: Frames, images: list[EncodedImage]) -> Turn:
    request = query.request
    t0 = query.source_stamps[0]
    answer_type = request.answer_type or "free"
    choices = ", ".join(repr(choice) for choice in request.choices)
    text = _prompts.render(
        "task",
        question=request.question,
        answer_type_line=_prompts.render(f"answer_{answer_type}", choices=choices),
        frame_count=f"{len(frames)} frames",
        time_span=f"{query.source_stamps[-1] - t0:.2f} s from t0 = {t0:.3f} s",
        frame_overview=_frame_overview(frames, t0),
        world_frame=request.target_frame or query.world_frame or "the first frame's camera",
        key_frames_line=(
            f"{len(images)} key frames are attached below." if images else "No key frames are attached."
        ),
    )
    return Turn("user", "task", text, images)


def _frame_overview(frames: Frames, t0: float) -> str:
    lines = []
    for camera in frames.cameras:
        own = list(frames.by_camera(camera))
        first, last = own[0], own[-1]
        height, width = np.shape(first.image)[:2]
        has_depth = any(frame.depth is not None for frame in own)
        has_pose = all(frame.T_world_camera is not None for frame in own)
        lines.append(
            f"- {camera}: {len(own)} frames, {width}×{height} px, "
            f"t = +{float(first.stamp) - t0:.2f} … +{float(last.stamp) - t0:.2f} s, "
            f"depth camera: {'yes' if has_depth else 'no'}, "
            f"poses: {'yes' if has_pose else 'no'}, optical frame '{first.frame_id}'"
        )
    return "\n".join(lines)
