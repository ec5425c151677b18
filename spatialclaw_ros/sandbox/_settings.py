"""Settings of the sandboxed kernels: limits, mounts, the kernel interpreter and the launcher choice."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from spatialclaw_ros.sandbox._env import is_forbidden_env_key

SNAPSHOT_MOUNT = "/snapshot"
SCRATCH_MOUNT = "/scratch"
SERVICES_MOUNT = "/run/spatialclaw"
LIB_MOUNT = "/opt/spatialclaw/lib"
ENTRY_MOUNT = "/opt/spatialclaw/entry"
CONN_MOUNT = "/run/kernel"

RESERVED_MOUNTS = (
    SNAPSHOT_MOUNT,
    SCRATCH_MOUNT,
    SERVICES_MOUNT,
    LIB_MOUNT,
    ENTRY_MOUNT,
    CONN_MOUNT,
    "/",
    "/proc",
    "/dev",
    "/tmp",
    "/etc",
    "/usr",
)

DEFAULT_PRELOAD = """\
import os as _os
import random as _random

import numpy as np
import scipy
import scipy.ndimage
import scipy.spatial
import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import spatialclaw_ros.geometry
import spatialclaw_ros.runtime
import spatialclaw_ros.runtime.frames
import spatialclaw_ros.runtime.tools

_random.seed(_os.urandom(32))
np.random.seed(int.from_bytes(_os.urandom(4), "little"))
del _os, _random
"""

_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
# Set by the sandbox itself (paths, threads, locale) or loader/interpreter controls.
_RESERVED_ENV = frozenset(
    [
        "PATH",
        "HOME",
        "TMPDIR",
        "IPYTHONDIR",
        "MPLCONFIGDIR",
        "XDG_CACHE_HOME",
        "XDG_CONFIG_HOME",
        "MPLBACKEND",
        "PYTHONPATH",
        "PYTHONNOUSERSITE",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONHOME",
        "PYTHONSTARTUP",
        "LANG",
        "LC_ALL",
        "TERM",
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "SPATIALCLAW_SCRATCH",
        "SPATIALCLAW_SNAPSHOT",
        "SPATIALCLAW_SERVICES",
        "JPY_PARENT_PID",
    ]
)
DEFAULT_KERNEL_PYTHON = "/opt/spatialclaw/kernel-env/bin/python"
DEFAULT_SANDBOX_USER = "spatialclaw-sandbox"
#: Tasks (processes and threads) a kernel needs besides its cells' (launcher, PID-namespace init and
#: ipykernel's threads, ~15 idle): added to ``max_processes`` in the kernel's pids cgroup.
KERNEL_OWN_TASKS = 32
#: Inodes a kernel's scratch needs at start (its IPython and matplotlib directories) with room to work.
MIN_SCRATCH_INODES = 256


class SandboxError(RuntimeError):
    """A kernel could not be started, or no sandbox is available (strict mode fails closed)."""


@dataclass(frozen=True)
class Bind:
    """A host path made visible inside the sandbox (read-only unless ``writable``)."""

    host_path: Path
    sandbox_path: str
    writable: bool = False

    def __post_init__(self) -> None:
        """Check that the sandbox path is absolute, normalised and not one of the sandbox's own mounts."""
        path = PurePosixPath(self.sandbox_path)
        if not path.is_absolute() or str(path) != self.sandbox_path or ".." in path.parts:
            raise ValueError(
                f"Bind.sandbox_path must be a normalised absolute path, got {self.sandbox_path!r}"
            )
        if self.sandbox_path in RESERVED_MOUNTS:
            raise ValueError(f"Bind.sandbox_path {self.sandbox_path!r} is reserved by the sandbox")


@dataclass(frozen=True)
class SandboxSettings:
    """How kernels are sandboxed and bounded.

    ``mode="strict"`` (default) runs each kernel in bubblewrap, else in the Python fallback launcher, and
    fails closed (``SandboxError``) when neither works. ``mode="off"`` runs a plain local ipykernel with the
    node's own interpreter and privileges: for debugging only; every acquired kernel logs a warning.

    Limits: ``max_processes`` bounds the processes and threads of ONE kernel's cells: a pids cgroup per
    kernel (``pids.max`` = ``max_processes`` plus ``KERNEL_OWN_TASKS`` for the launcher and ipykernel's own
    threads) where the machine has a writable pids cgroup hierarchy; elsewhere RLIMIT_NPROC, which older
    Linux counts per user, so that all kernels of ``sandbox_user`` share it (``KernelPool.isolation`` says
    which one holds). ``memory_mb`` is the kernel's address-space limit (MiB), ``cpu_s`` its CPU-time soft
    limit in seconds (hard limit 5 s higher, so the kernel sees SIGXCPU first), ``max_file_mb`` the largest
    file it may write (MiB), ``tmpfs_mb`` the size of its private /tmp and /dev/shm (MiB each).
    ``scratch_mb`` (MiB) and ``scratch_inodes`` (files and directories) bound its /scratch; ``scratch_inodes``
    bounds /tmp and /dev/shm too. Both hold where the node may mount (root): each is then a tmpfs of its own,
    memory-backed and counted against the machine's RAM, not against ``memory_mb``. ``require_seccomp``
    (default True) makes a sandboxed kernel refuse to start without its seccomp filter (pyseccomp in the
    kernel environment): memfd_create, userfaultfd, keyrings, ptrace, perf, bpf, io_uring, mounts and new
    namespaces fail with EPERM inside; False lets it start unfiltered, with a warning in its log.
    ``output_max_chars`` caps stdout and stderr of one cell each (head and tail kept), ``display_max_bytes``
    all displays of one cell together. ``cell_output_mb`` bounds what one cell may write to stdout and
    stderr together inside the kernel (MiB): past it the write raises ``OutputLimitError`` in the cell
    (the kernel's output buffers would otherwise grow until its memory limit and lose the output).
    ``compute_threads`` bounds the BLAS/OpenMP/OpenCV thread pools inside the kernel.

    ``kernel_python`` is the interpreter of the kernel's own environment (scripts/setup_sandbox.sh creates
    it; it must be world-readable, without ROS); ``sandbox_user`` the unprivileged user kernels run as when
    the node runs as root. ``launcher`` picks ``bwrap``, ``python`` (fallback) or ``auto`` (bwrap when it
    works). ``work_dir`` holds the per-kernel directories (default: the system temporary directory).
    ``environment`` adds non-secret variables to every kernel's environment (e.g. where a bound service
    socket lives); names of secrets, ROS/DDS settings and the sandbox's own variables are refused.
    """

    mode: Literal["strict", "off"] = "strict"
    memory_mb: int = 4096
    cpu_s: int = 900
    max_processes: int = 512
    max_open_files: int = 256
    max_file_mb: int = 512
    output_max_chars: int = 20_000
    display_max_bytes: int = 8_000_000
    cell_output_mb: int = 16
    binds: tuple[Bind, ...] = ()
    environment: tuple[tuple[str, str], ...] = ()
    preload: str = DEFAULT_PRELOAD
    kernel_python: str = DEFAULT_KERNEL_PYTHON
    sandbox_user: str = DEFAULT_SANDBOX_USER
    launcher: Literal["auto", "bwrap", "python"] = "auto"
    work_dir: Path | None = None
    tmpfs_mb: int = 256
    scratch_mb: int = 1024
    scratch_inodes: int = 16_384
    require_seccomp: bool = True
    compute_threads: int = 2
    start_timeout_s: float = 60.0
    interrupt_grace_s: float = 3.0

    def __post_init__(self) -> None:
        """Reject settings that would weaken or break the sandbox."""
        if self.mode not in ("strict", "off"):
            raise ValueError(f"SandboxSettings.mode must be 'strict' or 'off', got {self.mode!r}")
        if self.launcher not in ("auto", "bwrap", "python"):
            raise ValueError(f"SandboxSettings.launcher must be auto, bwrap or python, got {self.launcher!r}")
        positive = {
            "memory_mb": self.memory_mb,
            "cpu_s": self.cpu_s,
            "max_processes": self.max_processes,
            "max_open_files": self.max_open_files,
            "max_file_mb": self.max_file_mb,
            "output_max_chars": self.output_max_chars,
            "display_max_bytes": self.display_max_bytes,
            "cell_output_mb": self.cell_output_mb,
            "tmpfs_mb": self.tmpfs_mb,
            "scratch_mb": self.scratch_mb,
            "scratch_inodes": self.scratch_inodes,
            "compute_threads": self.compute_threads,
            "start_timeout_s": self.start_timeout_s,
            "interrupt_grace_s": self.interrupt_grace_s,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"SandboxSettings.{name} must be positive, got {value!r}")
        if self.max_open_files < 64:
            raise ValueError("SandboxSettings.max_open_files must be at least 64 (ipykernel needs ~40)")
        if self.scratch_inodes < MIN_SCRATCH_INODES:
            raise ValueError(
                f"SandboxSettings.scratch_inodes must be at least {MIN_SCRATCH_INODES} (start-up files)"
            )
        if self.memory_mb < 512:
            raise ValueError("SandboxSettings.memory_mb must be at least 512 (the preload needs ~400)")
        for name, _value in self.environment:
            if not _ENV_NAME.fullmatch(name) or name in _RESERVED_ENV or is_forbidden_env_key(name):
                raise ValueError(
                    f"SandboxSettings.environment may not set {name!r}: kernels never see secrets, ROS "
                    "configuration or the variables the sandbox itself sets"
                )
        targets = [bind.sandbox_path for bind in self.binds]
        if len(set(targets)) != len(targets):
            raise ValueError(f"SandboxSettings.binds name a sandbox path twice: {targets}")
