"""Bootstrap of a query's kernel namespace, and the per-cell report that rides on every execute reply.

The host runs one bootstrap cell per query (:func:`bootstrap_code`). It loads the snapshot's frames,
puts ``frames``, ``Frame``, ``meta``, ``geo``, ``show``, ``vlm``, ``ReturnAnswer`` and its types, ``np``,
``scipy``, ``cv2`` and ``plt`` into the namespace, and registers two IPython hooks:

- ``pre_run_cell`` resets the per-step image count and any unreported answer;
- ``post_run_cell`` publishes one display with the private mime type :data:`STEP_MIME`: summaries of
  the variables the cell created or changed and, when the cell called ``ReturnAnswer``, the answer
  payload. So the cell, the variable summary and the answer check travel in one execute request,
  and the model's cell runs unmodified (error line numbers are its own).

The bootstrap itself publishes one :data:`READY_MIME` display with what it loaded.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spatialclaw_ros.protocol.text import clean_value
from spatialclaw_ros.runtime import _summary, answer, show
from spatialclaw_ros.runtime.vlm import VLM

STEP_MIME = "application/vnd.spatialclaw.step+json"
READY_MIME = "application/vnd.spatialclaw.ready+json"
SNAPSHOT_ENV = "SPATIALCLAW_SNAPSHOT"
SERVICES_ENV = "SPATIALCLAW_SERVICES"
MAX_VARIABLES = 25
#: Modules the namespace holds under short names (the kernel's warm start has imported them all).
MODULES = {
    "np": "numpy",
    "scipy": "scipy",
    "cv2": "cv2",
    "matplotlib": "matplotlib",
    "plt": "matplotlib.pyplot",
    "geo": "spatialclaw_ros.geometry",
    "tools": "spatialclaw_ros.runtime.tools",
}


@dataclass(frozen=True)
class Meta:
    """What the query asks and which frames it has.

    Attributes:
        question: the question in natural language.
        answer_type: ``""`` (free), ``"text"``, ``"number"``, ``"choice"`` or ``"boolean"``.
        choices: the allowed answers when ``answer_type`` is ``"choice"``.
        target_frame: the world frame every pose of the answer is expressed in.
        cameras: camera names present in ``frames``.
        window: ``(first_stamp, last_stamp)`` of the frames, seconds; ``None`` without frames.
    """

    question: str
    answer_type: str
    choices: tuple[str, ...]
    target_frame: str
    cameras: tuple[str, ...]
    window: tuple[float, float] | None


def bootstrap_code(config: Mapping[str, Any]) -> str:
    """The cell the host runs first in a fresh kernel (``config`` as documented in :func:`bootstrap`)."""
    text = json.dumps(dict(config))
    return (
        "from spatialclaw_ros.runtime.namespace import bootstrap as _spatialclaw_bootstrap\n"
        f"_spatialclaw_bootstrap(get_ipython(), {text!r})\n"
        "del _spatialclaw_bootstrap\n"
    )


def bootstrap(shell: Any, config_json: str) -> None:
    """Fill the namespace of ``shell`` (the kernel's IPython shell) for one query.

    ``config_json`` holds: ``question``, ``answer_type``, ``choices``, ``target_frame``,
    ``max_images_per_step``, ``max_image_side_px``, ``vlm_timeout_s`` and ``vlm_socket_name`` (the
    host's ``vlm.ask`` socket in the services directory). Where the snapshot and the services
    directory are inside the kernel comes from the environment the sandbox sets
    (``SPATIALCLAW_SNAPSHOT``, ``SPATIALCLAW_SERVICES``).
    """
    config = json.loads(config_json)
    from spatialclaw_ros.runtime.frames import Frame, load_frames

    frames = load_frames(Path(os.environ[SNAPSHOT_ENV]))
    vlm_socket = str(Path(os.environ[SERVICES_ENV]) / config["vlm_socket_name"])
    stamps = [frame.stamp for frame in frames]
    meta = Meta(
        question=config["question"],
        answer_type=config["answer_type"],
        choices=tuple(config["choices"]),
        target_frame=config["target_frame"],
        cameras=tuple(frames.cameras),
        window=(min(stamps), max(stamps)) if stamps else None,
    )
    answer.expect(meta.answer_type, meta.choices)
    show.configure(shell.display_pub.publish, config["max_images_per_step"], config["max_image_side_px"])
    namespace: dict[str, Any] = {
        "frames": frames,
        "Frame": Frame,
        "meta": meta,
        "show": show.show,
        "vlm": VLM(vlm_socket, config["vlm_timeout_s"], config["max_image_side_px"]),
        "ReturnAnswer": answer.ReturnAnswer,
        "Measurement": answer.Measurement,
        "Object3D": answer.Object3D,
        "Trajectory": answer.Trajectory,
        "AnswerError": answer.AnswerError,
    }
    for name, module in MODULES.items():
        namespace[name] = importlib.import_module(module)
    shell.push(namespace)
    session = _Session(shell)
    shell.events.register("pre_run_cell", session.pre_run_cell)
    shell.events.register("post_run_cell", session.post_run_cell)
    shell.display_pub.publish(
        data={READY_MIME: {"frames": len(frames), "cameras": list(meta.cameras)}},
        metadata={},
    )


class _Session:
    """The hooks that report each cell's changed variables and answer."""

    def __init__(self, shell: Any) -> None:
        self._shell = shell
        self._before = self._names()

    def _names(self) -> dict[str, tuple[Any, ...]]:
        """Fingerprints of the model's names (IPython's own, such as ``In``/``Out``, left out)."""
        hidden = self._shell.user_ns_hidden
        names = _summary.public_names(self._shell.user_ns)
        return {name: value for name, value in names.items() if name not in hidden}

    def pre_run_cell(self, info: Any) -> None:
        show.new_step()
        answer.take_pending()

    def post_run_cell(self, result: Any) -> None:
        namespace = self._shell.user_ns
        after = self._names()
        new, changed = _summary.changed_names(self._before, after)
        self._before = after
        names = (new + changed)[:MAX_VARIABLES]
        variables = [
            {"name": name, "new": name in new, "summary": _summary.summarize(namespace[name])}
            for name in names
        ]
        step = {
            "variables": variables,
            "more_variables": len(new) + len(changed) - len(names),
            "answer": answer.take_pending(),
        }
        # The kernel's session cannot send a lone surrogate (a summary or an answer may hold one).
        self._shell.display_pub.publish(data={STEP_MIME: clean_value(step)}, metadata={})
