"""Closing a pool leaves nothing of its kernels: no process, no zombie, no cgroup, no mount."""

import os

import psutil
import pytest

from spatialclaw_ros.sandbox import KernelPool

pytestmark = pytest.mark.sandbox

SPAWN_CHILDREN = """
import os, signal, subprocess
sleeper = subprocess.Popen(['sleep', '600'])
forked = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        signal.pause()
    forked.append(pid)
"""


def _pool_processes(kernel_pids: list[int], cgroup_dirs: list) -> set[int]:
    pids = set()
    for pid in kernel_pids:
        pids.add(pid)
        pids.update(child.pid for child in psutil.Process(pid).children(recursive=True))
    for directory in cgroup_dirs:
        pids.update(int(pid) for pid in (directory / "cgroup.procs").read_text().split())
    return pids


def test_closing_the_pool_reaps_every_kernel_process(pool):
    closing = KernelPool(pool.settings, size=2)
    closing.start()
    kernel = closing.acquire(timeout_s=60)
    assert kernel.execute(SPAWN_CHILDREN).status == "ok"
    # Every kernel of the pool: the acquired one and the one refilling (warm or still starting).
    pool_group = kernel.cgroup_dir.parent if kernel.cgroup_dir is not None else None
    cgroup_dirs = [path for path in pool_group.iterdir() if path.is_dir()] if pool_group is not None else []
    processes = _pool_processes([kernel.pid], cgroup_dirs)
    assert len(processes) >= 6  # launcher, namespace init, kernel, sleep, three forks
    mounts = [kernel.scratch_dir]
    closing.close()
    left = [pid for pid in processes if psutil.pid_exists(pid)]
    assert not left, [psutil.Process(pid).as_dict(["name", "status", "ppid"]) for pid in left]
    zombies = [child for child in psutil.Process().children() if child.status() == psutil.STATUS_ZOMBIE]
    assert not zombies
    assert pool_group is None or not pool_group.exists()
    assert not any(os.path.ismount(path) or path.exists() for path in mounts)
