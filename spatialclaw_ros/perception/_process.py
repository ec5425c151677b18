"""The node's handle on its perception service: one child process on a Unix socket, restarted if it dies.

Least privilege: the child gets an environment built from an allow-list (locale, paths, accelerator and
model-cache settings; nothing whose name speaks of a key, token, secret or password, so the node's LLM
key never reaches it) and, when a ``user`` is given, runs as that unprivileged account with no
supplementary groups. Its log is created 0600.
"""

from __future__ import annotations

import logging
import os
import pwd
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from spatialclaw_ros.perception._settings import PerceptionSettings
from spatialclaw_ros.protocol.perception import PerceptionClient, PerceptionError

LOG = logging.getLogger("spatialclaw_ros.perception")
MAX_BACKOFF_S = 10.0
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
_PASSED_NAMES = frozenset(
    ("PATH", "LANG", "LANGUAGE", "TZ", "TERM", "LD_LIBRARY_PATH", "HF_HOME", "HF_HUB_CACHE", "TORCH_HOME")
)
_PASSED_PREFIXES = ("LC_", "CUDA_", "NVIDIA_", "PYTORCH_", "OMP_", "MKL_", "OPENBLAS_", "TRANSFORMERS_")
_SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH", "COOKIE")


def service_environ(environ: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """The service's whole environment: the allowed part of ``environ``, then ``extra`` as given.

    Nothing of ``environ`` whose name speaks of a key, token, secret or password passes, whatever its
    prefix; ``PYTHONPATH`` starts with this package's root.
    """

    def passed(name: str) -> bool:
        upper = name.upper()
        if any(word in upper for word in _SECRET_WORDS):
            return False
        return upper in _PASSED_NAMES or upper.startswith(_PASSED_PREFIXES)

    merged = {name: value for name, value in environ.items() if passed(name)}
    merged.update(extra)
    merged["HF_HUB_OFFLINE"] = "1"
    # The child imports this very package, wherever it was imported from (source tree or install).
    inherited = extra.get("PYTHONPATH") or environ.get("PYTHONPATH")
    merged["PYTHONPATH"] = os.pathsep.join(filter(None, (str(PACKAGE_ROOT), inherited)))
    return merged


class PerceptionServiceProcess:
    """Starts ``python -m spatialclaw_ros.perception`` on ``socket_path`` and keeps it running.

    ``start()`` returns once the service answers ``/health`` (models may still be loading: health says
    so per backend). ``user`` (when given; the node must be root) is the account it runs as. If the
    process dies, calls in flight fail with PERCEPTION_UNAVAILABLE and a monitor thread starts a new
    one (backoff from 0.5 s to 10 s); ``restarts`` counts them.
    """

    def __init__(
        self,
        settings: PerceptionSettings,
        socket_path: str | os.PathLike[str],
        env: Mapping[str, str] | None = None,
        log_path: str | os.PathLike[str] | None = None,
        startup_timeout_s: float = 60.0,
        python: str = sys.executable,
        user: pwd.struct_passwd | None = None,
    ) -> None:
        """Prepare (not start) the service; ``env`` is added to the allowed part of this process's."""
        self.settings = settings
        self.socket_path = str(socket_path)
        self._env = service_environ(os.environ, env or {})
        self._user = user
        self._log_path = Path(log_path) if log_path is not None else None
        self._startup_timeout_s = startup_timeout_s
        self._python = python
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._stopping = threading.Event()
        self._spawn_lock = threading.Lock()
        self._monitor: threading.Thread | None = None
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        """Process id of the running service, None when stopped."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def client(self, timeout_s: float = 120.0) -> PerceptionClient:
        """A client of this service (host side)."""
        return PerceptionClient(socket_path=self.socket_path, timeout_s=timeout_s)

    def health(self, timeout_s: float = 5.0) -> dict[str, Any]:
        """The service's health report; raises PerceptionError when it does not answer."""
        return PerceptionClient(socket_path=self.socket_path, timeout_s=timeout_s, reconnect_s=0.0).health()

    def wait_loaded(self, timeout_s: float = 600.0) -> dict[str, Any]:
        """Wait until no backend is loading; the last health report (TimeoutError after ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        while True:
            report = self.health()
            if all(slot["state"] != "loading" for slot in report["backends"].values()):
                return report
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"perception backends still loading after {timeout_s:.0f} s: {report['backends']}"
                )
            time.sleep(0.1)

    def start(self) -> None:
        """Start the process and wait until it answers; RuntimeError (with its log tail) if it cannot."""
        if self._process is not None:
            raise RuntimeError("the perception service is already started")
        Path(self.socket_path).parent.mkdir(parents=True, exist_ok=True)
        if self._log_path is not None:
            self._log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = os.fdopen(
                os.open(self._log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab"
            )
        self._stopping.clear()
        self._spawn()
        deadline = time.monotonic() + self._startup_timeout_s
        while True:
            process = self._process
            if process is not None and process.poll() is not None:
                self._process = None
                raise RuntimeError(f"perception service exited with {process.returncode}{self._log_tail()}")
            try:
                self.health(timeout_s=2.0)
                break
            except PerceptionError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"perception service did not answer within {self._startup_timeout_s:.0f} s"
                        f"{self._log_tail()}"
                    ) from None
                time.sleep(0.1)
        self._monitor = threading.Thread(target=self._watch, name="perception-monitor", daemon=True)
        self._monitor.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Terminate the service (SIGTERM, then SIGKILL after ``timeout_s``) and stop restarting it."""
        self._stopping.set()
        with self._spawn_lock:
            process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._monitor is not None and self._monitor is not threading.current_thread():
            self._monitor.join(timeout_s)
        self._monitor = None
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        Path(self.socket_path).unlink(missing_ok=True)

    def __enter__(self) -> PerceptionServiceProcess:
        """Start on entering a ``with`` block."""
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop on leaving it."""
        self.stop()

    def _spawn(self) -> None:
        command = [
            self._python,
            "-m",
            "spatialclaw_ros.perception",
            "--socket",
            self.socket_path,
            "--settings",
            self.settings.to_json(),
        ]
        output = self._log if self._log is not None else subprocess.DEVNULL
        identity: dict[str, Any] = {}
        if self._user is not None:
            identity = {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}
        # Its own session: a terminal's Ctrl-C reaches the node only, which then stops the service. The
        # service itself asks to die with its parent, so a node killed outright does not leave it behind.
        self._process = subprocess.Popen(
            command,
            env=self._env,
            stdout=output,
            stderr=output,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd="/",
            **identity,
        )
        LOG.info("perception service started (pid %d) on %s", self._process.pid, self.socket_path)

    def _watch(self) -> None:
        backoff_s = 0.5
        while not self._stopping.is_set():
            process = self._process
            if process is None:
                return
            started = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            LOG.error("perception service exited with %s; restarting in %.1f s", code, backoff_s)
            if self._stopping.wait(backoff_s):
                return
            backoff_s = 0.5 if time.monotonic() - started > 60.0 else min(backoff_s * 2.0, MAX_BACKOFF_S)
            with self._spawn_lock:
                if self._stopping.is_set():
                    return
                self.restarts += 1
                self._spawn()

    def _log_tail(self) -> str:
        if self._log_path is None or not self._log_path.exists():
            return ""
        return ":\n" + self._log_path.read_bytes()[-2000:].decode("utf-8", "replace")
