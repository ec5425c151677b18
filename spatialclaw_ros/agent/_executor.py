"""The seam to the kernel: the :class:`Executor` protocol, and how the loop runs a cell off its event loop.

:class:`~spatialclaw_ros.sandbox.Kernel` is the real executor (a sandboxed ipykernel); the unit tests
script their own.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Protocol

from spatialclaw_ros.sandbox import CellResult

#: The shortest time (s) a cell is given, so that a nearly spent budget still runs it briefly.
MIN_CELL_TIMEOUT_S = 0.1


class Executor(Protocol):
    """What the agent loop needs of a query's kernel.

    A kernel that had to be killed (a cell ignored its interrupt, or the process died) says so with
    ``CellResult.state_lost``; it restarts by itself at the next :meth:`execute`, with an empty
    namespace, and the loop loads the query's namespace again.
    """

    @property
    def snapshot_dir(self) -> Path:
        """Host directory holding the query's snapshot (written before the loop starts)."""
        ...

    @property
    def services_dir(self) -> Path:
        """Host directory where the loop may create Unix sockets the kernel can connect to."""
        ...

    def execute(self, code: str, timeout_s: float = 60.0) -> CellResult:
        """Run one cell for at most ``timeout_s`` seconds; blocks. Raises ``SandboxError`` when it cannot."""
        ...

    def interrupt(self) -> None:
        """Make a running :meth:`execute` return soon; callable from any thread."""
        ...

    def share_socket(self, path: Path) -> None:
        """Make a Unix socket the host created in :attr:`services_dir` connectable from inside."""
        ...


async def execute(executor: Executor, code: str, timeout_s: float) -> CellResult:
    """Run ``code`` in ``executor`` on a worker thread, for at most ``timeout_s`` seconds (at least 0.1)."""
    return await asyncio.to_thread(executor.execute, code, max(MIN_CELL_TIMEOUT_S, timeout_s))
