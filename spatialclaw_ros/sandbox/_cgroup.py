"""A pids cgroup per kernel: bounds the processes and threads of one kernel, whatever user they run as.

RLIMIT_NPROC counts per user (per user namespace only on recent Linux), so on older kernels every kernel of
the sandbox user shares one budget and a fork bomb in one starves the others. A pids cgroup bounds each
kernel alone. Layout: ``<hierarchy>/<node's own cgroup>/spatialclaw-<pool>/<kernel>`` (cgroup v2: the pool
group may instead sit beside the node's cgroup, in a delegated subtree whose node lives in a leaf). The
node places a kernel's first process in its group before that process runs anything (``spawn``'s gate).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

_POLL_S = 0.005
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True)
class PidsHierarchy:
    """A mounted pids cgroup hierarchy and where the node's own cgroup is in it (host paths)."""

    version: int
    mount_point: Path
    own_dir: Path


def _unescape(field: str) -> str:
    """A mountinfo path field with its octal escapes (backslash 040 for a space) decoded."""
    return _OCTAL_ESCAPE.sub(lambda match: chr(int(match.group(1), 8)), field)


def pids_hierarchies(mountinfo: str, proc_cgroup: str) -> list[PidsHierarchy]:
    """The pids hierarchies the node can see, cgroup v2 first.

    ``mountinfo`` is the text of /proc/self/mountinfo, ``proc_cgroup`` that of /proc/self/cgroup. A v1
    hierarchy is a ``cgroup`` mount with the ``pids`` option; v2 is the ``cgroup2`` mount (whether it has
    the pids controller is checked when a pool group is made). Mounts that show another part of the tree
    than the node's own cgroup (a container's bind mount of a sibling) are left out.
    """
    own_v1: str | None = None
    own_v2: str | None = None
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            own_v2 = parts[2]
        elif "pids" in parts[1].split(","):
            own_v1 = parts[2]
    found: list[PidsHierarchy] = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        tail = fields[fields.index("-") + 1 :]
        if len(tail) < 3 or len(fields) < 5:
            continue
        fstype, super_options = tail[0], tail[2].split(",")
        root, mount_point = _unescape(fields[3]), Path(_unescape(fields[4]))
        if fstype == "cgroup2" and own_v2 is not None:
            version, own = 2, own_v2
        elif fstype == "cgroup" and "pids" in super_options and own_v1 is not None:
            version, own = 1, own_v1
        else:
            continue
        if root != "/" and own != root and not own.startswith(root.rstrip("/") + "/"):
            continue
        relative = own[len(root) :] if root != "/" else own
        found.append(PidsHierarchy(version, mount_point, mount_point / relative.lstrip("/")))
    return sorted(found, key=lambda hierarchy: -hierarchy.version)


def _v2_controllers(path: Path) -> list[str]:
    return (path / "cgroup.controllers").read_text().split()


def _pool_parents(hierarchy: PidsHierarchy) -> list[Path]:
    """Where a pool group may go: the node's own cgroup; on v2 else beside it (a delegated subtree)."""
    if hierarchy.version == 2 and hierarchy.own_dir != hierarchy.mount_point:
        return [hierarchy.own_dir, hierarchy.own_dir.parent]
    return [hierarchy.own_dir]


def _make_v2_pool(parent: Path, name: str) -> Path:
    """Create ``parent/name`` with pids enabled for its children. Raises OSError where not allowed."""
    if "pids" not in _v2_controllers(parent):
        raise OSError(errno.ENOTSUP, f"no pids controller in {parent}")
    if "pids" not in (parent / "cgroup.subtree_control").read_text().split():
        (parent / "cgroup.subtree_control").write_text("+pids")
    pool = parent / name
    pool.mkdir(mode=0o755)
    try:
        (pool / "cgroup.subtree_control").write_text("+pids")
    except OSError:
        pool.rmdir()
        raise
    return pool


class KernelCgroup:
    """One kernel's pids cgroup: a limit on its tasks, and who is in it."""

    def __init__(self, path: Path, max_tasks: int) -> None:
        """Create the group with ``pids.max`` = ``max_tasks``. Raises OSError."""
        self.path = path
        path.mkdir(mode=0o755)
        try:
            (path / "pids.max").write_text(str(max_tasks))
        except OSError:
            path.rmdir()
            raise

    @property
    def procs_file(self) -> Path:
        """The file a pid is written to, to move that process into the group."""
        return self.path / "cgroup.procs"

    def place(self, pid: int) -> None:
        """Move process ``pid`` (with the threads it has) into the group. Raises OSError."""
        self.procs_file.write_text(str(pid))

    def members(self) -> list[int]:
        """Host pids of the processes in the group now (empty once it was removed)."""
        try:
            return [int(pid) for pid in self.procs_file.read_text().split()]
        except FileNotFoundError:
            return []

    def limit_hits(self) -> int:
        """How often a fork or thread creation in the group failed at ``pids.max`` (0 if not reported)."""
        with contextlib.suppress(OSError):
            for line in (self.path / "pids.events").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "max":
                    return int(value)
        return 0

    def kill_members(self) -> None:
        """SIGKILL every process still in the group (any that left the kernel's process tree)."""
        for pid in self.members():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def remove(self, timeout_s: float) -> bool:
        """Remove the group once it is empty (its processes killed by the caller); False if it stayed."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.path.rmdir()
                return True
            except FileNotFoundError:
                return True
            except OSError as exc:
                if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                    return False
            time.sleep(_POLL_S)


class PoolCgroup:
    """The pool's pids cgroup, parent of one group per kernel."""

    def __init__(self, path: Path, version: int) -> None:
        """Wrap an existing pool group (``create`` makes one)."""
        self.path = path
        self.version = version

    @classmethod
    def create(cls, name: str) -> tuple[PoolCgroup | None, str]:
        """A new pool group named ``name`` in the first writable pids hierarchy, or None and why not."""
        try:
            hierarchies = pids_hierarchies(
                Path("/proc/self/mountinfo").read_text(), Path("/proc/self/cgroup").read_text()
            )
        except OSError as exc:
            return None, f"cannot read the process's cgroups: {exc}"
        reasons = []
        for hierarchy in hierarchies:
            for parent in _pool_parents(hierarchy):
                try:
                    if hierarchy.version == 2:
                        return cls(_make_v2_pool(parent, name), 2), ""
                    pool = parent / name
                    pool.mkdir(mode=0o755)
                    return cls(pool, 1), ""
                except OSError as exc:
                    reasons.append(f"v{hierarchy.version} {parent}: {exc.strerror or exc}")
        return None, "; ".join(reasons) or "no pids cgroup hierarchy is mounted"

    def describe(self) -> str:
        """What bounds a kernel's processes, for diagnostics."""
        return f"pids cgroup v{self.version} per kernel ({self.path})"

    def kernel(self, name: str, max_tasks: int) -> KernelCgroup:
        """A new group for kernel ``name`` holding at most ``max_tasks`` tasks. Raises OSError."""
        return KernelCgroup(self.path / name, max_tasks)

    def remove(self) -> bool:
        """Remove the pool group once its kernels' groups are gone; False if something stayed in it."""
        try:
            self.path.rmdir()
        except FileNotFoundError:
            return True
        except OSError:
            return False
        return True
