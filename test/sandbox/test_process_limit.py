"""A kernel's tasks are bounded by its own pids cgroup: one kernel's fork bomb spares the others."""

import pytest

from spatialclaw_ros.sandbox._settings import KERNEL_OWN_TASKS

pytestmark = pytest.mark.sandbox

FORK_UNTIL_REFUSED = """
import errno, os
gate_r, gate_w = os.pipe()
children = []
try:
    while True:
        pid = os.fork()
        if pid == 0:
            os.close(gate_w)
            os.read(gate_r, 1)
            os._exit(0)
        children.append(pid)
except OSError as exc:
    print(len(children), errno.errorcode[exc.errno])
"""
RELEASE_CHILDREN = """
os.close(gate_w)
for pid in children:
    os.waitpid(pid, 0)
print('reaped', len(children))
"""


def test_forks_stop_at_the_kernels_cgroup_limit_and_a_neighbour_still_forks(kernel, pool):
    if kernel.cgroup_dir is None:
        pytest.skip(f"no pids cgroup here: {pool.isolation}")
    limit = pool.settings.max_processes + KERNEL_OWN_TASKS
    assert int((kernel.cgroup_dir / "pids.max").read_text()) == limit
    result = kernel.execute(FORK_UNTIL_REFUSED, timeout_s=60)
    count, error = result.stdout.split()
    assert error == "EAGAIN"
    assert pool.settings.max_processes <= int(count) < limit
    assert (
        int(
            dict(line.split() for line in (kernel.cgroup_dir / "pids.events").read_text().splitlines())["max"]
        )
        > 0
    )
    # The full kernel still holds all its children: a neighbour of the same pool forks and starts threads.
    with pool.acquire(timeout_s=60) as neighbour:
        other = neighbour.execute(
            "import subprocess, threading\n"
            "t = threading.Thread(target=print, args=('thread',)); t.start(); t.join()\n"
            "print(subprocess.run(['true']).returncode)"
        )
        assert other.stdout.split() == ["thread", "0"], other
    assert kernel.execute(RELEASE_CHILDREN, timeout_s=60).stdout.split() == ["reaped", count]
    assert (
        kernel.execute("import subprocess\nprint(subprocess.run(['true']).returncode)").stdout.strip() == "0"
    )
