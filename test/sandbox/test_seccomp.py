"""The kernel's seccomp filter: calls that rlimits cannot bound fail with a clear error inside the cell."""

import pytest

pytestmark = pytest.mark.sandbox


def test_memfd_create_is_refused_and_the_kernel_goes_on(kernel):
    result = kernel.execute("import os\nos.memfd_create('balloon')")
    assert (result.error.ename, result.error.line_no) == ("PermissionError", 2)
    assert kernel.execute("print(len(bytearray(2**20)))").stdout.strip() == "1048576"


def test_kernel_attack_surface_calls_fail_with_eperm(kernel):
    code = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
calls = {'userfaultfd': (323, 0), 'keyctl': (250, 0, 0), 'perf_event_open': (298, 0, 0, -1, -1, 0),
         'bpf': (321, 0, 0, 0), 'io_uring_setup': (425, 1, 0), 'unshare_user': (272, 0x10000000)}
for name, args in calls.items():
    rc = libc.syscall(*args)
    print(name, rc, os.strerror(ctypes.get_errno()) if rc < 0 else '')
"""
    lines = kernel.execute(code).stdout.strip().splitlines()
    assert lines == [
        f"{name} -1 Operation not permitted"
        for name in ("userfaultfd", "keyctl", "perf_event_open", "bpf", "io_uring_setup", "unshare_user")
    ]


def test_threads_and_subprocesses_still_start(kernel):
    code = """
import subprocess, threading
box = []
t = threading.Thread(target=box.append, args=(1,)); t.start(); t.join()
print(box, subprocess.run(['echo', 'child'], capture_output=True, text=True).stdout.strip())
"""
    assert kernel.execute(code).stdout.strip() == "[1] child"
