"""Sandboxed Jupyter kernels for model-written code: launcher, warm pool and cell execution (no ROS).

Each kernel runs in its own user, PID, network, IPC and mount namespaces (bubblewrap, else a Python
fallback launcher), as an unprivileged user, with rlimits, a seccomp filter, its own pids cgroup, a
scrubbed environment, a read-only view of the system, its snapshot read-only and its scratch directory
(with /tmp and /dev/shm: size- and inode-bounded tmpfs mounts) as the only writable places.
``KernelPool.isolation`` says which of these hold on this machine. ``mode="off"`` runs a
plain local kernel for debugging and warns at every query.
"""

from spatialclaw_ros.sandbox._kernel import Kernel
from spatialclaw_ros.sandbox._pool import Isolation, KernelPool
from spatialclaw_ros.sandbox._results import CellError, CellResult, Display
from spatialclaw_ros.sandbox._settings import (
    SCRATCH_MOUNT,
    SERVICES_MOUNT,
    SNAPSHOT_MOUNT,
    Bind,
    SandboxError,
    SandboxSettings,
)

__all__ = [
    "SCRATCH_MOUNT",
    "SERVICES_MOUNT",
    "SNAPSHOT_MOUNT",
    "Bind",
    "CellError",
    "CellResult",
    "Display",
    "Isolation",
    "Kernel",
    "KernelPool",
    "SandboxError",
    "SandboxSettings",
]
