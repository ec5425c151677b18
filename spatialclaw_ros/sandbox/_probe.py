"""Checks that a launcher really isolates here, by starting a throwaway sandbox once."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from spatialclaw_ros.sandbox._launch import KernelDirs, KernelView, SandboxUser, Staging, spawn
from spatialclaw_ros.sandbox._settings import SandboxError, SandboxSettings

_PROBE_CODE = """
import os, socket, sys
assert not os.path.exists("/etc/shadow"), "host /etc/shadow visible"
assert os.getuid() != 0, "runs as root"
names = {name for _, name in socket.if_nameindex()}
assert names <= {"lo"}, f"network interfaces visible: {names}"
sys.stdout.write("sandbox-ok")
"""
_SECCOMP_CHECK = """
try:
    import pyseccomp
except ImportError as exc:
    raise SystemExit(f"pyseccomp is missing in the kernel environment (require_seccomp): {exc}")
"""


def probe_launcher(
    name: str,
    settings: SandboxSettings,
    staging: Staging,
    user: SandboxUser,
    view_factory: Callable[[KernelDirs], KernelView],
) -> str | None:
    """None when launcher ``name`` starts the kernel interpreter isolated; else why it does not."""
    owner = user.uid if user.switch else None
    dirs = KernelDirs.create(staging.kernels, f"probe-{name}", owner)
    try:
        view = view_factory(dirs)
        code = (_SECCOMP_CHECK if settings.require_seccomp else "") + _PROBE_CODE
        argv = [*view.argv_prefix[:-1], "-I", "-c", code]
        proc = spawn(argv, view.env, dirs.log, user if view.spawn_as_user else None)
        try:
            proc.wait(timeout=settings.start_timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return "the probe did not finish in time"
        output = dirs.log.read_text(errors="replace")
        if proc.returncode != 0 or "sandbox-ok" not in output:
            return f"probe failed (exit {proc.returncode}): {output.strip()[-600:]}"
        return None
    except SandboxError as exc:
        return str(exc)
    finally:
        dirs.remove()
