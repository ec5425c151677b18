import os
from pathlib import Path

import psutil
import pytest

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


def test_fork_bomb_is_bounded_and_fully_killed(kernel):
    result = kernel.execute("import os\nwhile True:\n    os.fork()", timeout_s=10)
    assert result.status in ("error", "timeout")
    tree = psutil.Process(kernel.pid).children(recursive=True)
    assert len(tree) <= 64 + 2
    kernel.close()
    assert not [proc for proc in tree if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE]


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
    assert result.stdout.split() == ["-1", "3"]  # ESRCH: the host pid does not exist in the sandbox
