import os
from pathlib import Path

import pytest

import spatialclaw_ros.sandbox

pytestmark = pytest.mark.sandbox


def test_host_shadow_is_invisible(kernel, everything):
    result = kernel.execute("print(open('/etc/shadow').read())")
    assert result.status == "error" and result.error.ename == "FileNotFoundError"
    assert "root:" not in everything(result)


def test_node_source_and_venv_are_invisible(kernel):
    source = Path(spatialclaw_ros.sandbox.__file__).with_name("_kernel.py")
    result = kernel.execute(
        f"import os\nprint(os.path.exists({str(source)!r}), os.path.exists('/work'), "
        f"os.path.exists('/root'), os.path.exists('/home'))"
    )
    assert result.stdout.strip() == "False False False False"


def test_world_readable_host_secret_is_invisible(kernel, host_secret_file, secret, everything):
    result = kernel.execute(f"print(open({str(host_secret_file)!r}).read())")
    assert result.status == "error" and result.error.ename == "FileNotFoundError"
    assert secret not in everything(result)


def test_writes_outside_scratch_fail(kernel, host_secret_file, secret):
    targets = [
        "/newfile",
        "/snapshot/x",
        "/run/spatialclaw/x",
        "/opt/spatialclaw/lib/spatialclaw_ros/__init__.py",
        "/usr/lib/x",
        "/etc/passwd",
        str(host_secret_file),
        "/proc/sys/kernel/hostname",
    ]
    code = f"""
ok = []
for path in {targets!r}:
    try:
        with open(path, 'a') as handle:
            handle.write('pwned')
        ok.append(path)
    except OSError:
        pass
print(ok)
"""
    result = kernel.execute(code)
    assert result.stdout.strip() == "[]"
    assert host_secret_file.read_text() == secret


def test_private_tmp_and_shm_do_not_reach_host(kernel):
    name = f"spatialclaw-escape-{os.getpid()}"
    result = kernel.execute(
        f"open('/tmp/{name}', 'w').write('x'); open('/dev/shm/{name}', 'w').write('x'); print('wrote')"
    )
    assert result.stdout.strip() == "wrote"
    assert not Path(f"/tmp/{name}").exists() and not Path(f"/dev/shm/{name}").exists()


def test_host_shared_memory_segments_are_invisible(kernel, secret, everything):
    segment = Path(f"/dev/shm/fastrtps_spatialclaw_test_{os.getpid()}")
    segment.write_text(secret)
    try:
        result = kernel.execute(
            f"import os\nprint(os.listdir('/dev/shm'))\nprint(open({str(segment)!r}).read())"
        )
    finally:
        segment.unlink()
    assert result.stdout.strip() == "[]"
    assert result.error.ename == "FileNotFoundError" and secret not in everything(result)


def test_host_paths_of_own_directories_are_invisible(kernel):
    result = kernel.execute(
        f"import os\nprint(os.path.exists({str(kernel.scratch_dir)!r}), "
        f"os.path.exists({str(kernel.scratch_dir.parent.parent)!r}))"
    )
    assert result.stdout.strip() == "False False"


def test_snapshot_is_readable_but_not_writable(kernel):
    (kernel.snapshot_dir / "meta.json").write_text('{"question": "q"}')
    result = kernel.execute("print(open('/snapshot/meta.json').read())\nopen('/snapshot/meta.json', 'w')")
    assert result.stdout.strip() == '{"question": "q"}'
    assert result.error.ename == "OSError" and "Read-only" in result.error.evalue
    assert result.error.line_no == 2


def test_scratch_is_home_cwd_and_writable(kernel):
    result = kernel.execute(
        "import os\nopen('note.txt', 'w').write('hi')\nprint(os.getcwd(), os.environ['HOME'])"
    )
    assert result.stdout.strip() == "/scratch /scratch"
    assert (kernel.scratch_dir / "note.txt").read_text() == "hi"


def test_privilege_and_namespace_syscalls_fail(kernel):
    code = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
outcomes = {
    'mount': libc.mount(b'none', b'/scratch', b'tmpfs', 0, None),
    'unshare_user': libc.unshare(0x10000000),
    'chroot': libc.chroot(b'/scratch'),
    'setuid0': libc.setuid(0),
    'reboot': libc.reboot(0x4321FEDC),
}
print(sorted(name for name, rc in outcomes.items() if rc == 0))
print(os.getuid() != 0, open('/proc/self/status').read().count('NoNewPrivs:\\t1'))
"""
    result = kernel.execute(code)
    assert result.stdout.split("\n")[:2] == ["[]", "True 1"]
