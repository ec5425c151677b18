"""Where the kernels' perception comes from: a service the node starts, or one already running.

``perception.url`` empty: the node starts its own service process on a socket in a private directory,
as ``perception.service_user`` when the node runs as root, with an environment that holds no secret;
``unix:///path.sock``: a service already running on this machine; ``http(s)://host:port``: a remote
service (the plain service started with ``--tcp``, or the Ray Serve app) with the bearer token read
from the variable ``perception.token_env`` names. In every case kernels reach the service only
through their query's relay (:class:`~spatialclaw_ros.agent.PerceptionUpstream` says where it
forwards to); no kernel sees the service's socket, its log or its token.

Layout of a started service's directory (``owned_dir``, root's when the node is root, mode 0711)::

    service.log       0600, the node's: the service writes to the descriptor it was given
    socket/           0700, the service user's: perception.sock
    home/             0700, the service user's: HOME (caches the models may write)
"""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from spatialclaw_ros.agent import PerceptionUpstream
from spatialclaw_ros.perception import PerceptionError, PerceptionServiceProcess, PerceptionSettings
from spatialclaw_ros.protocol.perception import PerceptionClient

SOCKET_NAME = "perception.sock"
#: Extra seconds the relay waits beyond the service's own per-call limit (which answers TIMEOUT itself).
REPLY_MARGIN_S = 30.0


class PerceptionLinkError(ValueError):
    """``perception.url`` names no service the node can reach, or its token or user is missing."""


@dataclass
class PerceptionLink:
    """Where the relays forward to, and the service process when the node owns it."""

    upstream: PerceptionUpstream
    process: PerceptionServiceProcess | None = None
    owned_dir: Path | None = None

    @property
    def where(self) -> str:
        """The service's socket path or URL, for logs."""
        return self.upstream.socket_path or self.upstream.url or ""

    def client(self, timeout_s: float) -> PerceptionClient:
        """A host-side client of the service (with the token; never handed to a kernel)."""
        upstream = self.upstream
        return PerceptionClient(
            socket_path=upstream.socket_path,
            url=upstream.url,
            token=upstream.token,
            timeout_s=timeout_s,
            reconnect_s=0.0,
        )

    def health(self, timeout_s: float = 2.0) -> tuple[bool, str]:
        """Whether the service answers, and a one-line summary of its backends."""
        try:
            report = self.client(timeout_s).health()
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


def open_perception(
    url: str, settings: PerceptionSettings, token: str | None = None, service_user: str = ""
) -> PerceptionLink:
    """Start the local service (``url`` empty) or attach to the one ``url`` names.

    Args:
        url: empty, ``unix:///path.sock`` or ``http(s)://host:port[/prefix]``.
        settings: the service's backends and limits (a started service runs with them; for one already
            running, its request limit and call timeout bound what the relays forward).
        token: bearer token of a remote service; None: none.
        service_user: user the started service runs as when this process is root; empty: ourselves.

    Raises:
        PerceptionLinkError: ``url`` has another scheme, or ``service_user`` does not exist.
        RuntimeError: the local service did not start (its log tail is in the message).
    """
    limits = {
        "max_request_bytes": settings.max_request_mb * 1024 * 1024,
        "call_timeout_s": settings.call_timeout_s + REPLY_MARGIN_S,
    }
    if url.startswith("unix://"):
        return PerceptionLink(PerceptionUpstream(socket_path=url.removeprefix("unix://"), **limits))
    if url.startswith(("http://", "https://")):
        return PerceptionLink(PerceptionUpstream(url=url, token=token, **limits))
    if url:
        raise PerceptionLinkError(
            f"perception.url {url!r}: expected empty, unix:///path/to/service.sock or http(s)://host:port"
        )
    user = _service_user(service_user)
    directory = Path(tempfile.mkdtemp(prefix="spatialclaw-perception-"))
    directory.chmod(0o711)
    socket_dir, home = directory / "socket", directory / "home"
    for private in (socket_dir, home):
        private.mkdir(mode=0o700)
        if user is not None:
            os.chown(private, user.pw_uid, user.pw_gid)
    # Its HOME is private; the model cache stays where the node's own lookups would find it.
    hf_home = os.environ.get("HF_HOME") or str(Path("~/.cache/huggingface").expanduser())
    process = PerceptionServiceProcess(
        settings,
        socket_dir / SOCKET_NAME,
        env={"HOME": str(home), "HF_HOME": hf_home},
        log_path=directory / "service.log",
        user=user,
    )
    try:
        process.start()
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    upstream = PerceptionUpstream(socket_path=str(socket_dir / SOCKET_NAME), **limits)
    return PerceptionLink(upstream, process, owned_dir=directory)


def _service_user(name: str) -> pwd.struct_passwd | None:
    """The account the service drops to: ``name`` when we are root and it is set, else None (ourselves)."""
    if os.geteuid() != 0 or not name:
        return None
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise PerceptionLinkError(
            f"perception.service_user {name!r} does not exist: run scripts/setup_sandbox.sh as root, or set "
            "perception.service_user to '' to run the service as the node's user"
        ) from None
    if entry.pw_uid == 0:
        raise PerceptionLinkError(f"perception.service_user {name!r} is root")
    return entry
