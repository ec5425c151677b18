"""A pool of warm sandboxed kernels, each used for one query then destroyed; refilled in the background."""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from spatialclaw_ros.sandbox._cgroup import KernelCgroup, PoolCgroup
from spatialclaw_ros.sandbox._kernel import Kernel, new_kernel_name
from spatialclaw_ros.sandbox._launch import (
    KernelDirs,
    KernelView,
    SandboxUser,
    Staging,
    WritableQuotas,
    bwrap_view,
    off_view,
    sandbox_user,
)
from spatialclaw_ros.sandbox._probe import probe_launcher
from spatialclaw_ros.sandbox._pylauncher import python_view
from spatialclaw_ros.sandbox._settings import KERNEL_OWN_TASKS, SandboxError, SandboxSettings
from spatialclaw_ros.sandbox._tmpfs import can_mount

_LOG = logging.getLogger(__name__)
_OFF_WARNING = (
    "SANDBOX IS OFF (kernel.sandbox=off): model-written code runs as a plain local process with the node's "
    "privileges, files, network and ROS graph. Use only for debugging."
)
_MAX_BACKOFF_S = 10.0
#: A refill waits this long after an acquire while warm kernels remain: a booting kernel takes a core for
#: ~1.5 s, and the query that just took its kernel is in its latency-critical start (snapshot, prompt,
#: first model request; bench/query_overhead.py on 2 cores: 11 ms alone, 20-30 ms beside a booting
#: kernel). Nobody waits meanwhile.
REFILL_SETTLE_S = 0.25


@dataclass(frozen=True)
class Isolation:
    """Which mechanisms bound this pool's kernels, in words (for health reports and diagnostics).

    ``process_limit``: a pids cgroup per kernel, or RLIMIT_NPROC (per user: on Linux before user-namespace
    accounting, shared by all kernels of the sandbox user). ``scratch_quota``: tmpfs mounts with size and
    inode limits, or none. ``seccomp``: required, optional or off.
    """

    launcher: str
    process_limit: str
    scratch_quota: str
    seccomp: str

    def weaknesses(self) -> list[str]:
        """What is weaker than the full sandbox, in words; empty when every mechanism holds."""
        weak = []
        if self.launcher == "off":
            return ["no sandbox (kernel.sandbox off)"]
        if self.process_limit.startswith("RLIMIT"):
            weak.append("process limit shared per user (no pids cgroup)")
        if self.scratch_quota.startswith("none"):
            weak.append("no scratch quota")
        if self.seccomp != "required":
            weak.append(f"seccomp {self.seccomp}")
        return weak


class KernelPool:
    """``size`` warm kernels with the scientific stack and the runtime imported, refilled in the background.

    ``start()`` picks the launcher (strict mode: bubblewrap, else the Python fallback; ``SandboxError`` when
    neither works) and starts filling. ``acquire()`` hands out a fresh kernel for exactly one query; the
    caller closes it (context manager), which kills its process tree. A refill starts at once when the
    pool is empty or a caller waits, else ``REFILL_SETTLE_S`` after the last acquire.
    """

    def __init__(self, settings: SandboxSettings, size: int = 2) -> None:
        """Configure the pool; nothing starts before ``start()``."""
        if size < 0:
            raise ValueError(f"pool size must be >= 0, got {size}")
        self.settings = settings
        self.size = size
        self.launcher: str | None = None
        self._cond = threading.Condition()
        self._ready: collections.deque[Kernel] = collections.deque()
        self._wanted = 0
        self._starting = 0
        self._last_acquire = -math.inf
        self._closed = False
        self._started = False
        self._last_error: str | None = None
        self._staging: Staging | None = None
        self._user: SandboxUser | None = None
        self._cgroup: PoolCgroup | None = None
        self._quotas: WritableQuotas | None = None
        self._isolation: Isolation | None = None
        self._thread: threading.Thread | None = None
        self._every_kernel: set[Kernel] = set()

    def start(self) -> None:
        """Choose and check the launcher, then fill the pool in the background. Raises ``SandboxError``."""
        with self._cond:
            if self._started:
                return
            if self._closed:
                raise SandboxError("pool is closed")
            self._started = True
        try:
            self._staging = Staging(self.settings)
            if self.settings.mode == "off":
                _LOG.warning(_OFF_WARNING)
                self.launcher = "off"
            else:
                self._user = sandbox_user(self.settings)
                self._staging.write_identity(self._user)
                self.launcher = self._choose_launcher()
                self._isolation = self._set_up_limits()
        except BaseException:
            self.close()
            raise
        self._thread = threading.Thread(target=self._fill_loop, name="sandbox-pool", daemon=True)
        self._thread.start()

    def _choose_launcher(self) -> str:
        assert self._staging is not None and self._user is not None
        choices = ("bwrap", "python") if self.settings.launcher == "auto" else (self.settings.launcher,)
        reasons = []
        for name in choices:
            reason = probe_launcher(name, self.settings, self._staging, self._user, self._view_factory(name))
            if reason is None:
                _LOG.info("sandbox launcher: %s", name)
                return name
            reasons.append(f"{name}: {reason}")
        raise SandboxError("no sandbox works here (strict mode fails closed): " + "; ".join(reasons))

    def _set_up_limits(self) -> Isolation:
        """Make the pool's pids cgroup and check that tmpfs quotas work; log what falls back, once."""
        assert self._staging is not None and self.launcher is not None
        self._cgroup, why_no_cgroup = PoolCgroup.create(self._staging.base.name)
        if self._cgroup is not None:
            process_limit = self._cgroup.describe()
        else:
            process_limit = "RLIMIT_NPROC (per user)"
            _LOG.warning(
                "sandbox: no writable pids cgroup (%s); kernels fall back to RLIMIT_NPROC, which Linux "
                "before per-user-namespace accounting shares between all kernels: a fork bomb in one can "
                "starve the others",
                why_no_cgroup,
            )
        trial = self._staging.base / "mount-trial"
        trial.mkdir(mode=0o700)
        why_no_mount = can_mount(trial)
        trial.rmdir()
        if why_no_mount is None:
            self._quotas = WritableQuotas.of(self.settings)
            scratch_quota = (
                f"tmpfs per kernel: scratch {self.settings.scratch_mb} MiB, /tmp and /dev/shm "
                f"{self.settings.tmpfs_mb} MiB each, {self.settings.scratch_inodes} inodes each"
            )
        else:
            scratch_quota = "none: scratch is a host directory without size or inode limit"
            _LOG.warning("sandbox: scratch has no size or inode quota (%s)", why_no_mount)
        seccomp = "required" if self.settings.require_seccomp else "optional"
        return Isolation(self.launcher, process_limit, scratch_quota, seccomp)

    @property
    def isolation(self) -> Isolation | None:
        """Which mechanisms bound the kernels (None before ``start()``; off mode: no limits at all)."""
        if self.launcher == "off":
            return Isolation("off", "none", "none", "off")
        return self._isolation

    def _view_factory(self, name: str) -> Callable[[KernelDirs], KernelView]:
        """How launcher ``name`` (``off``, ``bwrap`` or ``python``) lays out a kernel's view."""
        staging, settings, user = self._staging, self.settings, self._user
        assert staging is not None
        views: dict[str, Callable[[KernelDirs], KernelView]] = {
            "off": lambda dirs: off_view(settings, dirs),
            "bwrap": lambda dirs: bwrap_view(settings, staging, dirs),
            "python": lambda dirs: python_view(settings, staging, dirs, user),
        }
        return views[name]

    @property
    def warm_count(self) -> int:
        """Kernels ready to hand out now."""
        with self._cond:
            return len(self._ready)

    @property
    def starting(self) -> int:
        """Kernels booting right now to refill the pool."""
        with self._cond:
            return self._starting

    @property
    def last_error(self) -> str | None:
        """The last reason a kernel failed to start (None after a success)."""
        return self._last_error

    def new_kernel(self) -> Kernel:
        """Start one kernel now, outside the pool (a cold start). Raises ``SandboxError``."""
        if not self._started or self._staging is None or self.launcher is None:
            raise SandboxError("pool not started")
        owner = self._user.uid if self._user is not None and self._user.switch else None
        name = new_kernel_name()
        try:
            dirs = KernelDirs.create(self._staging.kernels, name, owner, self._quotas)
        except OSError as exc:
            raise SandboxError(f"cannot create the kernel's directories: {exc}") from exc
        cgroup: KernelCgroup | None = None
        try:
            if self._cgroup is not None:
                try:
                    cgroup = self._cgroup.kernel(name, self.settings.max_processes + KERNEL_OWN_TASKS)
                except OSError as exc:
                    raise SandboxError(f"cannot create the kernel's pids cgroup: {exc}") from exc
            kernel = Kernel(
                self.settings, dirs, self._view_factory(self.launcher), self._user, self.launcher, cgroup
            )
        except BaseException:
            dirs.remove()
            if cgroup is not None:
                cgroup.remove(timeout_s=1.0)
            raise
        with self._cond:
            self._every_kernel = {known for known in self._every_kernel if not known.closed}
            self._every_kernel.add(kernel)
        return kernel

    def acquire(self, timeout_s: float = 30.0) -> Kernel:
        """A fresh warm kernel for ONE query (close it afterwards). Raises ``SandboxError`` on timeout."""
        if self.settings.mode == "off":
            _LOG.warning(_OFF_WARNING)
        deadline = time.monotonic() + timeout_s
        with self._cond:
            if not self._started:
                raise SandboxError("pool not started")
            self._wanted += 1
            self._last_acquire = time.monotonic()
            self._cond.notify_all()
            try:
                while True:
                    if self._closed:
                        raise SandboxError("pool is closed")
                    while self._ready:
                        kernel = self._ready.popleft()
                        self._cond.notify_all()
                        if kernel.is_alive():
                            return kernel
                        _LOG.warning("discarding a warm kernel that died while waiting")
                        kernel.close()
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        detail = f": {self._last_error}" if self._last_error else ""
                        raise SandboxError(f"no kernel available within {timeout_s:g} s{detail}")
                    self._cond.wait(remaining)
            finally:
                self._wanted -= 1

    def _fill_loop(self) -> None:
        failures = 0
        while True:
            with self._cond:
                while not self._closed:
                    if len(self._ready) >= max(self.size, self._wanted):
                        self._cond.wait()
                        continue
                    settle_s = self._settle_s()
                    if settle_s <= 0.0:
                        break
                    self._cond.wait(settle_s)
                if self._closed:
                    return
                self._starting += 1
            try:
                kernel = self.new_kernel()
            except Exception as exc:
                with self._cond:
                    self._starting -= 1
                failures += 1
                self._last_error = str(exc)
                _LOG.error("sandbox kernel failed to start (%d in a row): %s", failures, exc)
                with self._cond:
                    self._cond.wait(min(_MAX_BACKOFF_S, 0.25 * 2**failures))
                continue
            failures = 0
            self._last_error = None
            with self._cond:
                self._starting -= 1
                if self._closed:
                    kernel.close()
                    return
                self._ready.append(kernel)
                self._cond.notify_all()

    def _settle_s(self) -> float:
        """Seconds a refill still holds back (0 when the pool is empty or a caller waits); under ``_cond``."""
        if not self._ready or self._wanted > len(self._ready):
            return 0.0
        return self._last_acquire + REFILL_SETTLE_S - time.monotonic()

    def close(self) -> None:
        """Stop refilling, kill every kernel the pool started (handed out or warm), remove its directories.

        Idempotent.
        """
        with self._cond:
            self._closed = True
            self._ready.clear()
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.settings.start_timeout_s + 5)
        with self._cond:
            every_kernel = list(self._every_kernel)
        for kernel in every_kernel:
            kernel.close()
        if self._cgroup is not None and not self._cgroup.remove():
            _LOG.error("sandbox: the pool's pids cgroup %s could not be removed", self._cgroup.path)
        if self._staging is not None:
            with contextlib.suppress(OSError):
                self._staging.remove()

    def __enter__(self) -> KernelPool:
        """Start the pool."""
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the pool."""
        self.close()
