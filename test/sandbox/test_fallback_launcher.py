import dataclasses
import socket

import pytest

from spatialclaw_ros.sandbox import KernelPool

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def fallback_kernel(pool):
    """A kernel started by the Python fallback launcher (namespaces, pivot_root, setuid, Landlock)."""
    fallback_pool = KernelPool(dataclasses.replace(pool.settings, launcher="python"), size=0)
    fallback_pool.start()
    assert fallback_pool.launcher == "python"
    kernel = fallback_pool.new_kernel()
    yield kernel
    fallback_pool.close()


def test_fallback_hides_host_files(fallback_kernel, host_secret_file):
    result = fallback_kernel.execute(f"open({str(host_secret_file)!r})")
    assert result.error.ename == "FileNotFoundError"
    assert fallback_kernel.execute("open('/etc/shadow')").error.ename == "FileNotFoundError"


def test_fallback_has_no_network(fallback_kernel):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        result = fallback_kernel.execute(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), 2)")
    finally:
        listener.close()
    assert result.error.ename == "ConnectionRefusedError"
    names = fallback_kernel.execute("import socket\nprint([n for _, n in socket.if_nameindex()])")
    assert names.stdout.strip() == "['lo']"


def test_fallback_root_is_read_only_outside_scratch(fallback_kernel):
    code = """
ok = []
for path in ('/x', '/usr/x', '/snapshot/x', '/run/spatialclaw/x', '/etc/passwd'):
    try:
        open(path, 'a').close()
        ok.append(path)
    except OSError:
        pass
open('/scratch/fine.txt', 'w').write('y')
print(ok)
"""
    assert fallback_kernel.execute(code).stdout.strip() == "[]"
    assert (fallback_kernel.scratch_dir / "fine.txt").read_text() == "y"


def test_fallback_runs_unprivileged_without_capabilities(fallback_kernel):
    code = """
import os
status = dict(line.split(':', 1) for line in open('/proc/self/status').read().splitlines())
print(os.getuid() != 0, status['CapEff'].strip(), status['CapBnd'].strip(), status['NoNewPrivs'].strip())
"""
    result = fallback_kernel.execute(code)
    assert result.stdout.split() == ["True", "0000000000000000", "0000000000000000", "1"]


def test_fallback_hides_host_processes_and_environment(fallback_kernel, secret):
    code = """
import os, json
print(json.dumps(dict(os.environ)))
print(sorted(p for p in os.listdir('/proc') if p.isdigit()))
"""
    result = fallback_kernel.execute(code)
    assert secret not in result.stdout
    assert result.stdout.splitlines()[1] == "['1', '2']"


def test_fallback_kernel_has_the_same_limits(fallback_kernel, pool):
    code = """
import os
try:
    os.memfd_create('x')
except PermissionError:
    print('memfd refused')
print(os.statvfs('/scratch').f_files, os.statvfs('/tmp').f_files)
"""
    lines = fallback_kernel.execute(code).stdout.splitlines()
    assert lines[0] == "memfd refused"
    if not pool.isolation.scratch_quota.startswith("none"):
        assert lines[1].split() == [str(pool.settings.scratch_inodes)] * 2
    assert (fallback_kernel.cgroup_dir is None) == (pool.isolation.process_limit.startswith("RLIMIT"))
