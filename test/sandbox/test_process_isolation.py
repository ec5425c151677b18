import os
from pathlib import Path

import psutil
import pytest

from spatialclaw_ros.sandbox._settings import KERNEL_OWN_TASKS

pytestmark = pytest.mark.sandbox


def test_os_system_sees_no_host_secrets(kernel, host_secret_file, secret, everything):
    result = kernel.execute(
        f"import os\nos.system('cat /etc/shadow {host_secret_file} /proc/{os.getpid()}/environ; id')"
    )
    text = everything(result)
    assert "uid=0(" not in text
    assert secret not in text and "root:" not in text


def test_subprocess_cannot_read_host_files(kernel, host_secret_file, secret, everything):
    code = f"""
import subprocess
print(subprocess.run(['cat', {str(host_secret_file)!r}], capture_output=True, text=True))
"""
    result = kernel.execute(code)
    assert "No such file" in result.stdout and secret not in everything(result)


def test_ipython_system_cannot_read_host_files(kernel, host_secret_file, secret, everything):
    result = kernel.execute(f"get_ipython().system('cat {host_secret_file}')")
    assert secret not in everything(result)


def test_bang_command_cannot_read_host_files(kernel, host_secret_file, secret, everything):
    result = kernel.execute(f"!cat {host_secret_file} /etc/shadow")
    assert "No such file" in everything(result) and secret not in everything(result)


def test_bash_cell_magic_cannot_write_host_files(kernel, tmp_path):
    target = f"/tmp/spatialclaw-bash-escape-{os.getpid()}"
    result = kernel.execute(f"%%bash\necho pwned > {target}\ncat /etc/shadow\nls /root\n")
    assert not Path(target).exists()
    assert "root:" not in result.stdout


def pid_namespace_of(outer_pid: int) -> Path:
    """The PID namespace of the kernel started by ``outer_pid`` (its first child's)."""
    child = psutil.Process(outer_pid).children()[0].pid
    return Path(f"/proc/{child}/ns/pid").readlink()


def namespace_members(namespace: Path) -> list[int]:
    """Host pids of the live processes in ``namespace``; read from /proc, which copes with churn."""
    members = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if Path(f"/proc/{entry.name}/ns/pid").readlink() == namespace and is_running(int(entry.name)):
                    members.append(int(entry.name))
            except OSError:
                continue
    return members


def is_running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_fork_bomb_is_bounded_and_fully_killed(kernel, pool):
    namespace = pid_namespace_of(kernel.pid)
    cgroup_dir = kernel.cgroup_dir
    result = kernel.execute("import os\nwhile True:\n    os.fork()", timeout_s=10)
    assert result.status in ("error", "timeout", "died")
    assert len(namespace_members(namespace)) <= pool.settings.max_processes + KERNEL_OWN_TASKS
    kernel.close()
    assert not namespace_members(namespace), "processes of the fork bomb outlived their kernel"
    assert cgroup_dir is None or not cgroup_dir.exists()


def test_signals_reach_neither_host_nor_other_kernels(kernel, pool):
    code = f"""
import os, signal
for pid in ({os.getpid()}, {os.getppid()}):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError as exc:
        print(type(exc).__name__)
os.kill(-1, signal.SIGKILL)
"""
    result = kernel.execute(code, timeout_s=10)
    assert result.stdout.split() == ["ProcessLookupError", "ProcessLookupError"]
    with pool.acquire(timeout_s=60) as other:
        assert other.execute("1").status == "ok"


def test_ptrace_of_host_process_fails(kernel):
    code = f"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print(libc.ptrace(16, {os.getpid()}, 0, 0), ctypes.get_errno())
"""
    result = kernel.execute(code)
    assert result.stdout.split() == ["-1", "1"]  # EPERM: the seccomp filter refuses ptrace itself
