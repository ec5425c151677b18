"""How the kernels reach the perception service: its Unix socket, bound read-only into every sandbox.

With ``perception.url`` empty the node starts its own service process on a socket in a private directory;
with ``unix:///path/to/service.sock`` it uses a service already running on this machine. The directory of
the socket is bound into each kernel at :data:`SANDBOX_DIR` and the kernel's ``tools`` find it through
``SPATIALCLAW_PERCEPTION_SOCKET``. Kernels have no network, so a service over TCP is not reachable from
them.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from spatialclaw_ros.perception import PerceptionError, PerceptionServiceProcess, PerceptionSettings
from spatialclaw_ros.protocol.perception import SOCKET_ENV, PerceptionClient
from spatialclaw_ros.sandbox import Bind

SANDBOX_DIR = "/run/perception"
SOCKET_NAME = "perception.sock"


class PerceptionLinkError(ValueError):
    """``perception.url`` names no service the kernels can reach."""


@dataclass
class PerceptionLink:
    """The service's socket on the host, the process when the node owns it, and how kernels see it."""

    socket_path: Path
    process: PerceptionServiceProcess | None
    owned_dir: Path | None = None

    @property
    def bind(self) -> Bind:
        """The sandbox mount of the socket's directory (read-only: connecting needs no write access)."""
        return Bind(self.socket_path.parent, SANDBOX_DIR)

    @property
    def environment(self) -> tuple[tuple[str, str], ...]:
        """Kernel environment naming the socket as the kernel sees it."""
        return ((SOCKET_ENV, f"{SANDBOX_DIR}/{self.socket_path.name}"),)

    def health(self, timeout_s: float = 2.0) -> tuple[bool, str]:
        """Whether the service answers, and a one-line summary of its backends."""
        try:
            report = PerceptionClient(
                socket_path=str(self.socket_path), timeout_s=timeout_s, reconnect_s=0.0
            ).health()
        except PerceptionError as error:
            return False, str(error)
        backends = report.get("backends", {})
        return True, ", ".join(f"{name}: {slot.get('state', '?')}" for name, slot in backends.items())

    def close(self) -> None:
        """Stop the service and remove its directory when the node started it."""
        if self.process is not None:
            self.process.stop()
        if self.owned_dir is not None:
            shutil.rmtree(self.owned_dir, ignore_errors=True)


def open_perception(url: str, settings: PerceptionSettings) -> PerceptionLink:
    """Start the local service (``url`` empty) or attach to ``unix://`` ``url``.

    Raises:
        PerceptionLinkError: ``url`` is neither empty nor a ``unix://`` socket path.
        RuntimeError: the local service did not start (its log tail is in the message).
    """
    if url.startswith("unix://"):
        return PerceptionLink(Path(url.removeprefix("unix://")), None)
    if url:
        raise PerceptionLinkError(
            f"perception.url {url!r}: kernels have no network, so they reach the service only through a "
            "Unix socket on this machine (unix:///path/to/service.sock); leave it empty to start one"
        )
    directory = Path(tempfile.mkdtemp(prefix="spatialclaw-perception-"))
    # The sandbox user must reach the socket; uvicorn makes the socket itself 0666.
    directory.chmod(0o755)
    process = PerceptionServiceProcess(settings, directory / SOCKET_NAME, log_path=directory / "service.log")
    try:
        process.start()
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return PerceptionLink(directory / SOCKET_NAME, process, owned_dir=directory)
