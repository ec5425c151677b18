"""The fallback launcher's host side: the command line that runs ``_pysandbox_main.py`` around a kernel."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from spatialclaw_ros.sandbox._launch import (
    KernelDirs,
    KernelView,
    SandboxUser,
    Staging,
    mount_plan,
    sandbox_env,
)
from spatialclaw_ros.sandbox._settings import (
    CONN_MOUNT,
    ENTRY_MOUNT,
    SCRATCH_MOUNT,
    SERVICES_MOUNT,
    SNAPSHOT_MOUNT,
    SandboxSettings,
)

_MAIN = Path(__file__).resolve().with_name("_pysandbox_main.py")


def python_view(
    settings: SandboxSettings, staging: Staging, dirs: KernelDirs, user: SandboxUser | None
) -> KernelView:
    """The fallback sandbox for one kernel: the same mount plan as bwrap, built by ``_pysandbox_main.py``."""
    plan = mount_plan(settings, staging, dirs, tmpfs_sized=True)
    new_root = dirs.root / "root"
    new_root.mkdir(mode=0o700, exist_ok=True)
    writable = [SCRATCH_MOUNT, CONN_MOUNT, "/tmp", "/dev/shm"]
    writable += [bind.sandbox_path for bind in settings.binds if bind.writable]
    switch = user is not None and user.switch
    config = {
        "plan": [
            {"kind": m.kind, "dest": m.dest, "source": m.source, "size_bytes": m.size_bytes} for m in plan
        ],
        "new_root": str(new_root),
        "uid": user.uid if switch and user is not None else None,
        "gid": user.gid if switch and user is not None else None,
        "writable": writable,
        "chdir": SCRATCH_MOUNT,
    }
    argv = (
        sys.executable,
        "-I",
        "-S",
        str(_MAIN),
        json.dumps(config),
        "--",
        settings.kernel_python,
        f"{ENTRY_MOUNT}/kernel_main.py",
    )
    return KernelView(
        scratch=SCRATCH_MOUNT,
        snapshot=SNAPSHOT_MOUNT,
        services=SERVICES_MOUNT,
        conn=CONN_MOUNT,
        argv_prefix=argv,
        env=sandbox_env(settings),
    )
