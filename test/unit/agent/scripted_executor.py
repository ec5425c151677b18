"""An in-process ``Executor`` for the unit tier: no kernel process; each cell's result comes from a script.

The bootstrap cell (recognised by its import of the namespace loader) answers with the next of
``bootstraps`` (default: always ready). Every other cell is recorded in :attr:`ScriptedExecutor.cells`
and answers with the next scripted :class:`CellResult`, or, for a :class:`Blocks` entry, runs until
:meth:`ScriptedExecutor.interrupt` (then it ends as an interrupted cell does).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spatialclaw_ros.runtime.namespace import READY_MIME, STEP_MIME
from spatialclaw_ros.sandbox import CellError, CellResult, Display

BOOTSTRAP_MARK = "_spatialclaw_bootstrap"


@dataclass(frozen=True)
class Blocks:
    """A cell that runs until interrupted; ``on_start`` is called (on the executor's thread) as it starts."""

    on_start: Callable[[], None] | None = None


def result(
    status: str = "ok",
    *,
    stdout: str = "",
    error: tuple[str, str] | None = None,
    displays: Iterable[Mapping[str, Any]] = (),
    state_lost: bool = False,
) -> CellResult:
    """A cell result; ``error`` is ``(exception name, value)``, each display a data bundle."""
    cell_error = CellError(error[0], error[1], f"{error[0]}: {error[1]}", None, None) if error else None
    return CellResult(
        status=status,  # type: ignore[arg-type]
        stdout=stdout,
        stderr="",
        error=cell_error,
        displays=tuple(
            Display({mime: json.dumps(value) for mime, value in data.items()}, {}) for data in displays
        ),
        duration_s=0.01,
        state_lost=state_lost,
        truncated=False,
    )


def ready() -> CellResult:
    """The bootstrap's result: the namespace is loaded."""
    return result(displays=[{READY_MIME: {"frames": 3, "cameras": ["front"]}}])


def answered(answer: Any, **payload: Any) -> CellResult:
    """A cell that called ``ReturnAnswer(answer, ...)``: its step report carries the raw payload."""
    report = {"variables": [], "more_variables": 0, "answer": {"answer": answer, **payload}}
    return result(displays=[{STEP_MIME: report}])


def printed(stdout: str) -> CellResult:
    """A cell that printed ``stdout`` and returned no answer."""
    return result(
        stdout=stdout, displays=[{STEP_MIME: {"variables": [], "more_variables": 0, "answer": None}}]
    )


def raised(ename: str, evalue: str) -> CellResult:
    """A cell that raised ``ename(evalue)``."""
    return result("error", error=(ename, evalue))


def killed() -> CellResult:
    """A cell whose kernel died: the next cell runs in a fresh kernel."""
    return result("died", error=("KernelDied", "the kernel process ended"), state_lost=True)


class ScriptedExecutor:
    """Answers cells from ``cells`` in order; the snapshot and services directories live under ``root``."""

    def __init__(
        self, root: Path, cells: Iterable[CellResult | Blocks], bootstraps: Iterable[CellResult] = ()
    ) -> None:
        self.snapshot_dir = root / "snapshot"
        self.services_dir = root / "services"
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        self.services_dir.mkdir(parents=True, exist_ok=True)
        self._script = list(cells)
        self._bootstraps = list(bootstraps)
        self._interrupted = threading.Event()
        self.cells: list[str] = []
        self.bootstrap_runs = 0
        self.interrupts = 0
        self.shared: list[Path] = []

    def execute(self, code: str, timeout_s: float = 60.0) -> CellResult:
        if BOOTSTRAP_MARK in code:
            self.bootstrap_runs += 1
            return self._bootstraps.pop(0) if self._bootstraps else ready()
        self.cells.append(code)
        if not self._script:
            raise AssertionError(f"the script has no result for cell {len(self.cells)}: {code!r}")
        entry = self._script.pop(0)
        # As the real kernel: an interrupt only reaches a cell that is running.
        self._interrupted.clear()
        if isinstance(entry, Blocks):
            if entry.on_start is not None:
                entry.on_start()
            if self._interrupted.wait(timeout_s):
                return raised("KeyboardInterrupt", "")
            return result("timeout", error=("TimeoutError", f"the cell ran past {timeout_s:.1f} s"))
        return entry

    def interrupt(self) -> None:
        self.interrupts += 1
        self._interrupted.set()

    def share_socket(self, path: Path) -> None:
        self.shared.append(path)
