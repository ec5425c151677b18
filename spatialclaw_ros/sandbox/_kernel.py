"""One sandboxed ipykernel: start, execute cells over Jupyter's ipc transport, interrupt, kill."""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import zmq
from jupyter_client.session import Session

from spatialclaw_ros.sandbox._cgroup import KernelCgroup
from spatialclaw_ros.sandbox._launch import (
    KernelDirs,
    KernelView,
    SandboxUser,
    check_socket_path,
    entry_config,
    spawn,
)
from spatialclaw_ros.sandbox._results import (
    MAX_DISPLAYS_PER_CELL,
    CappedText,
    CellError,
    CellResult,
    Display,
    cell_error,
    sanitize_display,
)
from spatialclaw_ros.sandbox._settings import SandboxError, SandboxSettings

_LOG = logging.getLogger(__name__)
_CHANNEL_PORTS = {"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5}
_POLL_S = 0.05
_IDLE_WAIT_S = 1.0
_MAX_ABORT_RETRIES = 5
_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
#: How long a sandbox launcher may take to reap its killed PID-namespace init and exit by itself.
_LAUNCHER_EXIT_S = 5.0
_CGROUP_EMPTY_S = 10.0
_COUNTER = itertools.count()

ViewFactory = Callable[[KernelDirs], KernelView]


class Kernel:
    """One sandboxed ipykernel, used for one query; a context manager whose exit closes it.

    ``snapshot_dir`` (host path; the host writes the query snapshot there after acquiring the kernel) is
    ``/snapshot`` inside, read-only. ``scratch_dir`` is ``/scratch`` inside: the cell's only writable place,
    its HOME and cwd. ``services_dir`` is ``/run/spatialclaw`` inside, read-only; Unix sockets the host
    creates there for this kernel are connectable from inside once ``share_socket`` made them so.
    ``cgroup`` (when given) is the kernel's own pids cgroup: it bounds the kernel's tasks, and the kernel
    removes it when closed.
    """

    def __init__(
        self,
        settings: SandboxSettings,
        dirs: KernelDirs,
        view_factory: ViewFactory,
        user: SandboxUser | None,
        launcher: str,
        cgroup: KernelCgroup | None = None,
    ) -> None:
        """Start the kernel process, wait until it answers, run the preload. Raises ``SandboxError``."""
        self.settings = settings
        self.launcher = launcher
        self.snapshot_dir: Path = dirs.snapshot
        self.scratch_dir: Path = dirs.scratch
        self.services_dir: Path = dirs.services
        self.generation = 0
        self._dirs = dirs
        self._view_factory = view_factory
        self._user = user
        self._cgroup = cgroup
        self._exec_lock = threading.Lock()
        self._close_lock = threading.Lock()
        self._interrupt_event = threading.Event()
        self._closed = False
        self._dead = False
        self._proc: subprocess.Popen | None = None
        self._context: zmq.Context | None = None
        self._sockets: dict[str, zmq.Socket] = {}
        self._session: Session | None = None
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    @property
    def sandboxed(self) -> bool:
        """False for ``mode="off"`` kernels (no sandbox at all)."""
        return self.launcher != "off"

    @property
    def pid(self) -> int | None:
        """Host pid of the kernel's outermost process (bwrap, the fallback launcher, or the kernel itself)."""
        return self._proc.pid if self._proc is not None else None

    @property
    def cgroup_dir(self) -> Path | None:
        """Host path of the kernel's pids cgroup (None where RLIMIT_NPROC bounds it instead)."""
        return self._cgroup.path if self._cgroup is not None else None

    @property
    def closed(self) -> bool:
        """True once ``close()`` was called."""
        return self._closed

    def is_alive(self) -> bool:
        """True while the kernel process runs and the kernel was not closed."""
        return not self._closed and not self._dead and self._proc is not None and self._proc.poll() is None

    def share_socket(self, path: Path) -> None:
        """Make a Unix socket the host created in ``services_dir`` connectable by the kernel's user."""
        resolved = Path(path).resolve()
        if resolved.parent != self.services_dir.resolve():
            raise ValueError(f"{path} is not directly in this kernel's services_dir")
        resolved.chmod(0o666)

    def __enter__(self) -> Kernel:
        """Return self."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the kernel."""
        self.close()

    def _start(self) -> None:
        view = self._view_factory(self._dirs)
        owner = self._user.uid if self._user is not None and self._user.switch else None
        self._dirs.reset_conn(owner)
        check_socket_path(self._dirs.conn)
        key = secrets.token_hex(32)
        connection = {"transport": "ipc", "signature_scheme": "hmac-sha256", "key": key, **_CHANNEL_PORTS}
        conn_file = self._dirs.conn / "kernel.json"
        conn_file.write_text(json.dumps({**connection, "ip": f"{view.conn}/k"}))
        conn_file.chmod(0o600)
        if owner is not None:
            os.chown(conn_file, owner, -1)
        config = entry_config(
            self.settings, self.sandboxed, view.scratch, view.conn, cgroup_bounded=self._cgroup is not None
        )
        user = self._user if view.spawn_as_user else None
        self._proc = spawn([*view.argv_prefix, config], view.env, self._dirs.log, user, self._cgroup)
        self._dead = False
        self._session = Session(key=key.encode(), signature_scheme="hmac-sha256", username="spatialclaw")
        self._context = zmq.Context()
        self._context.setsockopt(zmq.MAXMSGSIZE, _MAX_MESSAGE_BYTES)
        self._context.setsockopt(zmq.LINGER, 0)
        base = f"ipc://{self._dirs.conn}/k"
        for name, kind in (("shell", zmq.DEALER), ("control", zmq.DEALER), ("iopub", zmq.SUB)):
            sock = self._context.socket(kind)
            if kind == zmq.SUB:
                sock.setsockopt(zmq.SUBSCRIBE, b"")
            sock.connect(f"{base}-{_CHANNEL_PORTS[f'{name}_port']}")
            self._sockets[name] = sock
        self._wait_ready(time.monotonic() + self.settings.start_timeout_s)
        if self.settings.preload.strip():
            result = self._run(self.settings.preload, self.settings.start_timeout_s, silent=True)
            if result.status != "ok":
                detail = result.error.traceback if result.error else result.stderr
                raise SandboxError(f"kernel preload failed ({result.status}): {detail[-2000:]}")

    def _wait_ready(self, deadline: float) -> None:
        """Send kernel_info until both its reply and an iopub message arrive (all channels connected)."""
        got_reply = got_iopub = False
        next_send = 0.0
        while not (got_reply and got_iopub):
            now = time.monotonic()
            if now > deadline:
                raise SandboxError(
                    f"kernel did not answer within {self.settings.start_timeout_s:g} s{self._log_tail()}"
                )
            if self._proc is not None and self._proc.poll() is not None:
                raise SandboxError(
                    f"kernel exited with status {self._proc.returncode} while starting{self._log_tail()}"
                )
            if now >= next_send and not got_iopub:
                self._send("shell", "kernel_info_request", {})
                next_send = now + 0.5
            for channel, msg in self._poll(_POLL_S):
                if channel == "shell" and msg["msg_type"] == "kernel_info_reply":
                    got_reply = True
                elif channel == "iopub":
                    got_iopub = True

    def _log_tail(self) -> str:
        try:
            with self._dirs.log.open("rb") as log:
                log.seek(max(0, self._dirs.log.stat().st_size - 3000))
                tail = log.read().decode("utf-8", "replace").strip()
        except OSError:
            return ""
        return f"; kernel log: {tail}" if tail else ""

    def _send(self, channel: str, msg_type: str, content: dict[str, Any]) -> str:
        assert self._session is not None
        msg = self._session.msg(msg_type, content=content)
        self._session.send(self._sockets[channel], msg)
        return msg["header"]["msg_id"]

    def _poll(self, timeout_s: float) -> list[tuple[str, dict[str, Any]]]:
        """Messages ready on shell, iopub and control within ``timeout_s``; malformed ones dropped."""
        assert self._session is not None
        poller = zmq.Poller()
        for sock in self._sockets.values():
            poller.register(sock, zmq.POLLIN)
        ready = dict(poller.poll(int(timeout_s * 1000)))
        messages = []
        for name, sock in self._sockets.items():
            if sock not in ready:
                continue
            for _ in range(1000):
                try:
                    frames = sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                try:
                    _idents, rest = self._session.feed_identities(frames)
                    msg = self._session.deserialize(rest)
                except Exception:
                    continue
                if isinstance(msg.get("content"), dict) and isinstance(msg.get("parent_header"), dict):
                    messages.append((name, msg))
        return messages

    def execute(self, code: str, timeout_s: float = 60.0) -> CellResult:
        """Run one cell (one execute_request) and return what it did; blocks until done.

        Past ``timeout_s`` the cell is interrupted; when the kernel ignores the interrupt for
        ``settings.interrupt_grace_s`` it is killed and restarted at the next call (``state_lost``).
        Raises ``SandboxError`` when the kernel is closed or cannot be restarted.
        """
        if not isinstance(code, str):
            raise TypeError(f"code must be str, got {type(code).__name__}")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        with self._exec_lock:
            if self._closed:
                raise SandboxError("kernel is closed")
            if self._dead:
                self._restart()
            self._interrupt_event.clear()
            return self._run(code, timeout_s, silent=False)

    def interrupt(self) -> None:
        """Make a running ``execute()`` return: interrupted (KeyboardInterrupt) or, if ignored, killed.

        Thread-safe; does nothing when no cell runs.
        """
        self._interrupt_event.set()

    def _run(self, code: str, timeout_s: float, silent: bool) -> CellResult:
        start = time.monotonic()
        for _attempt in range(_MAX_ABORT_RETRIES):
            outcome = _CellRun(self, code, timeout_s, silent, start)
            result = outcome.run()
            if result is not None:
                return result
            time.sleep(0.02)
        return _CellRun.failure(self, "error", "Aborted", "the kernel aborted the cell repeatedly", start)

    def _kill_process(self) -> None:
        """SIGKILL the kernel's whole process tree and reap it; nothing of it remains, zombies included.

        Sandboxed, the launcher's child is the init of the sandbox's PID namespace: it is killed first, which
        kills everything in the namespace; the launcher reaps it and exits, and we reap the launcher. Killing
        the launcher first would orphan the init to the host's PID 1, which may never reap it.
        """
        proc = self._proc
        if proc is None:
            return
        descendants: list[psutil.Process] = []
        first: list[psutil.Process] = []
        if proc.poll() is None:
            with contextlib.suppress(psutil.Error):
                outer = psutil.Process(proc.pid)
                descendants = outer.children(recursive=True)
                first = outer.children() if self.sandboxed else []
            if first:
                for child in first:
                    with contextlib.suppress(psutil.Error):
                        child.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=_LAUNCHER_EXIT_S)
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                for child in descendants:
                    with contextlib.suppress(psutil.Error):
                        child.kill()
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        if self._cgroup is not None:
            self._cgroup.kill_members()
        _wait_dead(descendants, timeout_s=10.0)
        self._dead = True

    def _close_sockets(self) -> None:
        for sock in self._sockets.values():
            sock.close(linger=0)
        self._sockets = {}
        if self._context is not None:
            self._context.term()
            self._context = None

    def _restart(self) -> None:
        self._kill_process()
        self._close_sockets()
        self.generation += 1
        _LOG.warning(
            "restarting kernel %s (generation %d) after it was killed", self._dirs.root.name, self.generation
        )
        self._start()

    def close(self) -> None:
        """Kill the kernel's whole process tree and remove its directories. Idempotent, thread-safe.

        A cell running in another thread returns ``died``.
        """
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            self._kill_process()
            with self._exec_lock:
                self._close_sockets()
            self._dirs.remove()
            if self._cgroup is not None and not self._cgroup.remove(_CGROUP_EMPTY_S):
                _LOG.error(
                    "kernel %s: its pids cgroup %s still holds %s",
                    self._dirs.root.name,
                    self._cgroup.path,
                    self._cgroup.members(),
                )


class _CellRun:
    """The state of one execute_request while its messages arrive."""

    def __init__(
        self,
        kernel: Kernel,
        code: str,
        timeout_s: float,
        silent: bool,
        start: float,
    ) -> None:
        self.kernel = kernel
        self.code = code
        self.timeout_s = timeout_s
        self.silent = silent
        self.start = start
        settings = kernel.settings
        self.stdout = CappedText(settings.output_max_chars)
        self.stderr = CappedText(settings.output_max_chars)
        self.displays: list[Display] = []
        self.display_budget = settings.display_max_bytes
        self.truncated = False
        self.reply: dict[str, Any] | None = None
        self.idle = False

    @staticmethod
    def failure(kernel: Kernel, status: str, ename: str, evalue: str, start: float) -> CellResult:
        return CellResult(
            status=status,  # type: ignore[arg-type]
            stdout="",
            stderr="",
            error=CellError(ename=ename, evalue=evalue, traceback="", line_no=None, line=None),
            displays=(),
            duration_s=time.monotonic() - start,
            state_lost=False,
            truncated=False,
        )

    def run(self) -> CellResult | None:
        """Send the request and collect its messages; None when the kernel aborted it (resend)."""
        kernel = self.kernel
        content = {
            "code": self.code,
            "silent": self.silent,
            "store_history": not self.silent,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": False,
        }
        msg_id = kernel._send("shell", "execute_request", content)
        deadline = self.start + self.timeout_s
        interrupt_sent_at: float | None = None
        reason = ""
        reply_at: float | None = None
        while True:
            now = time.monotonic()
            if self.reply is not None and (self.idle or now - (reply_at or now) > _IDLE_WAIT_S):
                break
            if kernel._proc is not None and kernel._proc.poll() is not None:
                kernel._dead = True
                return self._result(
                    "died", reason_error=("KernelDied", self._death_message()), state_lost=True
                )
            if interrupt_sent_at is None and self.reply is None:
                if kernel._interrupt_event.is_set():
                    reason = "interrupt"
                elif now > deadline:
                    reason = "timeout"
                if reason:
                    kernel._send("control", "interrupt_request", {})
                    interrupt_sent_at = now
            grace_over = (
                interrupt_sent_at is not None and now - interrupt_sent_at > kernel.settings.interrupt_grace_s
            )
            if grace_over and self.reply is None:
                kernel._kill_process()
                status = "timeout" if reason == "timeout" else "died"
                cause = f"ran longer than {self.timeout_s:g} s and " if reason == "timeout" else ""
                evalue = (
                    f"the cell {cause}ignored the interrupt; the kernel was killed and restarts for the next "
                    "cell, all variables are lost"
                )
                return self._result(status, reason_error=("KernelRestarted", evalue), state_lost=True)
            for channel, msg in kernel._poll(_POLL_S):
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if channel == "shell" and msg["msg_type"] == "execute_reply":
                    if msg["content"].get("status") == "aborted":
                        return None
                    self.reply = msg["content"]
                    reply_at = time.monotonic()
                elif channel == "iopub":
                    self._on_iopub(msg)
        status_text = self.reply.get("status") if self.reply else "error"
        if reason == "timeout":
            evalue = f"the cell ran longer than {self.timeout_s:g} s and was interrupted"
            return self._result("timeout", reason_error=("TimeoutError", evalue), state_lost=False)
        return self._result("ok" if status_text == "ok" else "error", reason_error=None, state_lost=False)

    def _death_message(self) -> str:
        code = self.kernel._proc.returncode if self.kernel._proc is not None else None
        signal_name = ""
        if code is not None and code < 0:
            with contextlib.suppress(ValueError):
                signal_name = f" ({signal.Signals(-code).name})"
        elif code is not None and code > 128:
            with contextlib.suppress(ValueError):
                signal_name = f" ({signal.Signals(code - 128).name})"
        return (
            f"the kernel process ended (exit status {code}{signal_name}), a crash or its CPU-time limit; "
            "it restarts for the next cell, all variables are lost"
        )

    def _on_iopub(self, msg: dict[str, Any]) -> None:
        msg_type = msg["msg_type"]
        content = msg["content"]
        if msg_type == "status":
            if content.get("execution_state") == "idle":
                self.idle = True
        elif msg_type == "stream":
            target = self.stderr if content.get("name") == "stderr" else self.stdout
            target.append(str(content.get("text", "")))
        elif msg_type in ("display_data", "execute_result", "update_display_data"):
            if len(self.displays) >= MAX_DISPLAYS_PER_CELL:
                self.truncated = True
                return
            display, size, note = sanitize_display(content, self.display_budget)
            if note:
                self.truncated = True
                self.stderr.append(f"[sandbox: {note}]\n")
            if display is not None:
                self.displays.append(display)
                self.display_budget -= size

    def _result(self, status: str, reason_error: tuple[str, str] | None, state_lost: bool) -> CellResult:
        reply = self.reply or {}
        settings = self.kernel.settings
        error: CellError | None = None
        count = reply.get("execution_count")
        count = count if isinstance(count, int) else None
        if reply.get("status") == "error":
            error = cell_error(
                reply.get("ename", "Error"),
                reply.get("evalue", ""),
                reply.get("traceback", ()),
                self.code,
                count,
                settings.output_max_chars,
            )
        if reason_error is not None:
            ename, evalue = reason_error
            if error is not None:
                error = CellError(ename, evalue, error.traceback, error.line_no, error.line)
            else:
                error = CellError(ename, evalue, "", None, None)
        return CellResult(
            status=status,  # type: ignore[arg-type]
            stdout=self.stdout.text(),
            stderr=self.stderr.text(),
            error=error,
            displays=tuple(self.displays),
            duration_s=time.monotonic() - self.start,
            state_lost=state_lost,
            truncated=self.truncated or self.stdout.truncated or self.stderr.truncated,
        )


def _wait_dead(processes: list[psutil.Process], timeout_s: float) -> None:
    """Wait until every process has exited or is a zombie (reaping orphans is the host init's job)."""
    deadline = time.monotonic() + timeout_s
    alive = list(processes)
    while alive and time.monotonic() < deadline:
        still = []
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                if proc.status() != psutil.STATUS_ZOMBIE:
                    still.append(proc)
        alive = still
        if alive:
            time.sleep(0.005)


def new_kernel_name() -> str:
    """A short unique directory name for a kernel (keeps Unix socket paths short)."""
    return f"k{os.getpid() % 100000}-{next(_COUNTER)}-{secrets.token_hex(3)}"
