"""Size- and inode-limited tmpfs mounts on the host, one per writable directory of a kernel (needs root).

bwrap's ``--size`` bounds a tmpfs's bytes but not its files: each empty file still costs kernel memory, and
a plain scratch directory on the host's disk has no bound at all. The node mounts each kernel's scratch,
/tmp and /dev/shm as tmpfs with ``size`` and ``nr_inodes`` before the kernel starts, and unmounts them when
it is closed; the sandbox binds them in.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from pathlib import Path

_MS_NOSUID = 2
_MS_NODEV = 4
_MNT_DETACH = 2
_LIBC = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class TmpfsQuota:
    """The bound of one tmpfs: ``size_bytes`` of data, ``inodes`` files and directories (root included)."""

    size_bytes: int
    inodes: int


def mount_tmpfs(path: Path, quota: TmpfsQuota, uid: int, gid: int) -> None:
    """Mount an empty tmpfs on directory ``path``, mode 0700, owned by ``uid``/``gid``. Raises OSError."""
    options = f"size={quota.size_bytes},nr_inodes={quota.inodes},mode=0700,uid={uid},gid={gid}"
    result = _LIBC.mount(
        b"tmpfs", os.fsencode(path), b"tmpfs", ctypes.c_ulong(_MS_NOSUID | _MS_NODEV), options.encode()
    )
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"mount tmpfs on {path}: {os.strerror(code)}")


def unmount(path: Path) -> None:
    """Unmount the tmpfs on ``path`` (detached lazily if a process still holds it). Raises OSError."""
    if _LIBC.umount2(os.fsencode(path), 0) == 0:
        return
    if _LIBC.umount2(os.fsencode(path), _MNT_DETACH) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"unmount {path}: {os.strerror(code)}")


def can_mount(trial_dir: Path) -> str | None:
    """None when this process may mount a tmpfs (tried once on the empty ``trial_dir``); else why not."""
    if os.geteuid() != 0:
        return "the node does not run as root"
    try:
        mount_tmpfs(trial_dir, TmpfsQuota(size_bytes=64 * 1024, inodes=16), os.getuid(), os.getgid())
    except OSError as exc:
        return str(exc)
    unmount(trial_dir)
    return None
