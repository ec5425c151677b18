"""Starting one kernel process: per-kernel directories, the sandbox's mount plan, bwrap and plain launch."""

from __future__ import annotations

import concurrent.futures
import functools
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from spatialclaw_ros.sandbox._cgroup import KernelCgroup
from spatialclaw_ros.sandbox._env import kernel_environ, scrub_environ
from spatialclaw_ros.sandbox._settings import (
    CONN_MOUNT,
    ENTRY_MOUNT,
    LIB_MOUNT,
    SCRATCH_MOUNT,
    SERVICES_MOUNT,
    SNAPSHOT_MOUNT,
    SandboxError,
    SandboxSettings,
)
from spatialclaw_ros.sandbox._tmpfs import TmpfsQuota, mount_tmpfs, unmount

_PACKAGE_DIR = Path(__file__).resolve().parents[1]
_KERNEL_PACKAGE_PARTS = ("__init__.py", "protocol", "runtime", "geometry")
_ENTRY_SCRIPT = Path(__file__).resolve().with_name("_kernel_main.py")
_SECCOMP_SCRIPT = Path(__file__).resolve().with_name("_kernel_seccomp.py")
# Runs as the kernel's first process, already in its cgroup's parent's view: waits until the node has
# moved it into the kernel's cgroup (one line on stdin), then becomes the launcher with stdin /dev/null.
_CGROUP_GATE = 'read -r _ || exit 125; exec "$@" </dev/null'
_MERGED_USR_DIRS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
_ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives", "fonts")
_MAX_SOCKET_PATH = 100
_SPAWNER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-spawner")


@dataclass(frozen=True)
class Mount:
    """One step of the sandbox's filesystem plan (bwrap vocabulary).

    ``kind``: ``ro-bind`` / ``bind`` (``source`` host path onto ``dest``), ``tmpfs`` (``size_bytes``, 0 for
    unbounded), ``proc``, ``dev``, ``dir`` (an empty directory, mode 0755), ``symlink`` (``source`` is the
    link target).
    """

    kind: str
    dest: str
    source: str = ""
    size_bytes: int = 0


@dataclass(frozen=True)
class WritableQuotas:
    """Bounds of a kernel's writable tmpfs mounts: scratch, and each of /tmp and /dev/shm."""

    scratch: TmpfsQuota
    tmp: TmpfsQuota

    @classmethod
    def of(cls, settings: SandboxSettings) -> WritableQuotas:
        """The quotas ``settings`` ask for (``scratch_mb``, ``tmpfs_mb``, ``scratch_inodes``)."""
        mib = 1024 * 1024
        return cls(
            scratch=TmpfsQuota(settings.scratch_mb * mib, settings.scratch_inodes),
            tmp=TmpfsQuota(settings.tmpfs_mb * mib, settings.scratch_inodes),
        )


@dataclass(frozen=True)
class KernelDirs:
    """Host directories of one kernel (all under ``root``).

    ``tmp`` and ``shm`` (the sandbox's /tmp and /dev/shm) exist when the kernel's writable places are
    quota-bound tmpfs mounts of the host (``mounts``, unmounted by ``remove``); else the sandbox makes them.
    """

    root: Path
    scratch: Path
    snapshot: Path
    services: Path
    conn: Path
    log: Path
    tmp: Path | None = None
    shm: Path | None = None
    mounts: tuple[Path, ...] = ()

    @classmethod
    def create(
        cls, parent: Path, name: str, owner_uid: int | None, quotas: WritableQuotas | None = None
    ) -> KernelDirs:
        """Create the directories; ``owner_uid`` (when given) owns scratch and conn, the writable ones.

        ``quotas`` (root only) mounts scratch, tmp and shm as tmpfs bounded by them. Raises OSError.
        """
        root = parent / name
        root.mkdir(mode=0o711)
        with_tmp = quotas is not None
        dirs = cls(
            root=root,
            scratch=root / "scratch",
            snapshot=root / "snapshot",
            services=root / "services",
            conn=root / "conn",
            log=root / "kernel.log",
            tmp=root / "tmp" if with_tmp else None,
            shm=root / "shm" if with_tmp else None,
            mounts=(root / "scratch", root / "tmp", root / "shm") if with_tmp else (),
        )
        for path, mode in ((dirs.scratch, 0o700), (dirs.snapshot, 0o755), (dirs.services, 0o755)):
            path.mkdir()
            path.chmod(mode)
        dirs.reset_conn(owner_uid)
        if owner_uid is not None:
            os.chown(dirs.scratch, owner_uid, -1)
        if quotas is not None:
            try:
                dirs._mount_quotas(quotas, owner_uid)
            except OSError:
                dirs.remove()
                raise
        return dirs

    def _mount_quotas(self, quotas: WritableQuotas, owner_uid: int | None) -> None:
        uid = owner_uid if owner_uid is not None else os.getuid()
        gid = pwd.getpwuid(uid).pw_gid if owner_uid is not None else os.getgid()
        assert self.tmp is not None and self.shm is not None
        for path, quota in ((self.scratch, quotas.scratch), (self.tmp, quotas.tmp), (self.shm, quotas.tmp)):
            path.mkdir(mode=0o700, exist_ok=True)
            mount_tmpfs(path, quota, uid, gid)

    def reset_conn(self, owner_uid: int | None) -> None:
        """Make ``conn`` a fresh, empty directory owned by the kernel (old sockets and files removed)."""
        shutil.rmtree(self.conn, ignore_errors=True)
        self.conn.mkdir(mode=0o700)
        if owner_uid is not None:
            os.chown(self.conn, owner_uid, -1)

    def remove(self) -> None:
        """Unmount the kernel's tmpfs mounts and delete everything under ``root`` (whatever modes it set)."""
        for path in self.mounts:
            if os.path.ismount(path):
                unmount(path)
        remove_tree(self.root)


def remove_tree(path: Path) -> None:
    """Delete ``path`` recursively, restoring owner permissions where a kernel removed them."""

    def _fix_and_retry(func, failed_path, _exc):  # type: ignore[no-untyped-def]
        try:
            Path(failed_path).parent.chmod(0o700)
            if Path(failed_path).is_dir() and not Path(failed_path).is_symlink():
                Path(failed_path).chmod(0o700)
            func(failed_path)
        except OSError:
            pass

    if path.exists():
        shutil.rmtree(path, onerror=_fix_and_retry)


@dataclass(frozen=True)
class SandboxUser:
    """The identity a kernel runs as: ``switch`` is True when the node is root and must drop to it."""

    uid: int
    gid: int
    name: str
    switch: bool


def sandbox_user(settings: SandboxSettings) -> SandboxUser:
    """The unprivileged user for kernels: ``settings.sandbox_user`` when running as root, else ourselves."""
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return SandboxUser(uid=entry.pw_uid, gid=entry.pw_gid, name=entry.pw_name, switch=False)
    try:
        entry = pwd.getpwnam(settings.sandbox_user)
    except KeyError:
        raise SandboxError(
            f"sandbox user {settings.sandbox_user!r} does not exist; run scripts/setup_sandbox.sh as root"
        ) from None
    if entry.pw_uid == 0:
        raise SandboxError(f"sandbox user {settings.sandbox_user!r} is root")
    return SandboxUser(uid=entry.pw_uid, gid=entry.pw_gid, name=entry.pw_name, switch=True)


class Staging:
    """Per-pool host files every kernel of the pool sees read-only: the kernel's package parts, entry, etc."""

    def __init__(self, settings: SandboxSettings) -> None:
        """Create the pool's base directory and copy what kernels may import into it."""
        parent = settings.work_dir if settings.work_dir is not None else Path(tempfile.gettempdir())
        self.base = Path(tempfile.mkdtemp(prefix="spatialclaw-sandbox-", dir=parent))
        self.base.chmod(0o711)
        self.lib = self.base / "lib"
        self.entry = self.base / "entry"
        self.etc = self.base / "etc"
        package = self.lib / "spatialclaw_ros"
        package.mkdir(parents=True)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        for part in _KERNEL_PACKAGE_PARTS:
            source = _PACKAGE_DIR / part
            if source.is_dir():
                shutil.copytree(source, package / part, ignore=ignore)
            else:
                shutil.copy2(source, package / part)
        self.entry.mkdir()
        shutil.copy2(_ENTRY_SCRIPT, self.entry / "kernel_main.py")
        shutil.copy2(_SECCOMP_SCRIPT, self.entry / _SECCOMP_SCRIPT.name)
        self.etc.mkdir()
        _make_world_readable(self.base)
        self.kernels = self.base / "kernels"
        self.kernels.mkdir(mode=0o711)
        self.kernels.chmod(0o711)

    def write_identity(self, user: SandboxUser) -> None:
        """Write the sandbox's /etc/passwd and /etc/group (root and the kernel's user only)."""
        (self.etc / "passwd").write_text(
            f"root:x:0:0:root:/root:/usr/sbin/nologin\n{user.name}:x:{user.uid}:{user.gid}::{SCRATCH_MOUNT}:/usr/sbin/nologin\n"
        )
        (self.etc / "group").write_text(f"root:x:0:\n{user.name}:x:{user.gid}:\n")
        for name in ("passwd", "group"):
            (self.etc / name).chmod(0o644)

    def remove(self) -> None:
        """Delete the pool's base directory and everything in it."""
        remove_tree(self.base)


def _make_world_readable(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


@functools.lru_cache(maxsize=8)
def interpreter_prefixes(python: str) -> tuple[str, ...]:
    """The install prefixes of the kernel interpreter (its venv and base), which the sandbox must mount."""
    if not os.access(python, os.X_OK):
        raise SandboxError(
            f"kernel interpreter {python} not found; run scripts/setup_sandbox.sh or set kernel_python"
        )
    probe = subprocess.run(
        [python, "-I", "-c", "import sys; print(sys.prefix); print(sys.base_prefix)"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if probe.returncode != 0:
        raise SandboxError(f"kernel interpreter {python} does not run: {probe.stderr.strip()[-500:]}")
    prefixes = {line.strip() for line in probe.stdout.splitlines() if line.strip()}
    return tuple(sorted(prefix for prefix in prefixes if not prefix.startswith("/usr")))


def mount_plan(
    settings: SandboxSettings, staging: Staging, dirs: KernelDirs, tmpfs_sized: bool
) -> list[Mount]:
    """The sandbox's whole filesystem: read-only system and interpreter, private /tmp, the kernel's dirs.

    Nothing else of the host is visible: no /home, /root, /etc/shadow, /dev/shm, /run or the node's venv.
    /tmp and /dev/shm are the host's quota-bound tmpfs mounts in ``dirs`` where it has them, else tmpfs
    of the sandbox; ``tmpfs_sized`` False (old bwrap without ``--size``) backs them with scratch
    subdirectories instead of unbounded memory.
    """
    plan = [Mount("ro-bind", "/usr", "/usr")]
    for name in _MERGED_USR_DIRS:
        host = Path("/") / name
        if host.is_symlink():
            plan.append(Mount("symlink", f"/{name}", str(host.readlink())))
        elif host.is_dir():
            plan.append(Mount("ro-bind", f"/{name}", str(host)))
    plan += [Mount("dir", "/etc")]
    for name in _ETC_FILES:
        if (Path("/etc") / name).exists():
            plan.append(Mount("ro-bind", f"/etc/{name}", f"/etc/{name}"))
    plan += [
        Mount("ro-bind", "/etc/passwd", str(staging.etc / "passwd")),
        Mount("ro-bind", "/etc/group", str(staging.etc / "group")),
        Mount("proc", "/proc"),
        Mount("dev", "/dev"),
    ]
    tmp_size = settings.tmpfs_mb * 1024 * 1024
    if dirs.tmp is not None and dirs.shm is not None:
        plan += [Mount("bind", "/tmp", str(dirs.tmp)), Mount("bind", "/dev/shm", str(dirs.shm))]
    elif tmpfs_sized:
        plan += [Mount("tmpfs", "/tmp", size_bytes=tmp_size), Mount("tmpfs", "/dev/shm", size_bytes=tmp_size)]
    else:
        for sub in ("tmp", "shm"):
            (dirs.scratch / f".{sub}").mkdir(mode=0o700, exist_ok=True)
            shutil.chown(dirs.scratch / f".{sub}", user=dirs.scratch.stat().st_uid)
        plan += [
            Mount("bind", "/tmp", str(dirs.scratch / ".tmp")),
            Mount("bind", "/dev/shm", str(dirs.scratch / ".shm")),
        ]
    made = {"/", "/etc", "/usr", "/proc", "/dev", "/tmp"}
    targets: list[tuple[str, str, str]] = [
        (prefix, prefix, "ro-bind") for prefix in interpreter_prefixes(settings.kernel_python)
    ]
    targets += [
        (str(staging.lib), LIB_MOUNT, "ro-bind"),
        (str(staging.entry), ENTRY_MOUNT, "ro-bind"),
        (str(dirs.scratch), SCRATCH_MOUNT, "bind"),
        (str(dirs.snapshot), SNAPSHOT_MOUNT, "ro-bind"),
        (str(dirs.services), SERVICES_MOUNT, "ro-bind"),
        (str(dirs.conn), CONN_MOUNT, "bind"),
    ]
    targets += [
        (str(bind.host_path), bind.sandbox_path, "bind" if bind.writable else "ro-bind")
        for bind in settings.binds
    ]
    for source, dest, kind in targets:
        parents = list(Path(dest).parents)[::-1][1:]
        for parent in parents:
            if str(parent) not in made:
                plan.append(Mount("dir", str(parent)))
                made.add(str(parent))
        plan.append(Mount(kind, dest, source))
        made.add(dest)
    return plan


def bwrap_argv(plan: list[Mount], features: frozenset[str]) -> list[str]:
    """The bubblewrap command line (without the command) for ``plan``."""
    argv = [
        "bwrap",
        "--unshare-user",
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--hostname",
        "sandbox",
    ]
    if "--disable-userns" in features:
        argv.append("--disable-userns")
    for mount in plan:
        if mount.kind in ("ro-bind", "bind"):
            argv += [f"--{mount.kind}", mount.source, mount.dest]
        elif mount.kind == "tmpfs":
            if mount.size_bytes:
                argv += ["--size", str(mount.size_bytes)]
            argv += ["--perms", "1777", "--tmpfs", mount.dest]
        elif mount.kind in ("proc", "dev"):
            argv += [f"--{mount.kind}", mount.dest]
        elif mount.kind == "dir":
            argv += ["--perms", "0755", "--dir", mount.dest]
        elif mount.kind == "symlink":
            argv += ["--symlink", mount.source, mount.dest]
        else:
            raise ValueError(f"unknown mount kind {mount.kind!r}")
    argv += ["--remount-ro", "/", "--chdir", SCRATCH_MOUNT]
    return argv


@functools.lru_cache(maxsize=1)
def bwrap_features() -> frozenset[str]:
    """The optional bwrap flags this bwrap understands (``--size``, ``--disable-userns``, ``--perms``)."""
    path = shutil.which("bwrap")
    if path is None:
        return frozenset()
    out = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=10, check=False)
    text = out.stdout + out.stderr
    return frozenset(flag for flag in ("--size", "--disable-userns", "--perms") if flag in text)


def entry_config(
    settings: SandboxSettings, sandboxed: bool, scratch: str, conn: str, cgroup_bounded: bool
) -> str:
    """The JSON argument of the kernel entry script.

    ``cgroup_bounded``: a pids cgroup bounds the kernel's tasks, so RLIMIT_NPROC (counted per user: on older
    Linux shared by all kernels, where one fork bomb would starve its neighbours) is left as inherited.
    """
    mib = 1024 * 1024
    rlimits = {
        "AS": [settings.memory_mb * mib, settings.memory_mb * mib],
        "CPU": [settings.cpu_s, settings.cpu_s + 5],
        "NOFILE": [settings.max_open_files, settings.max_open_files],
        "FSIZE": [settings.max_file_mb * mib, settings.max_file_mb * mib],
        "CORE": [0, 0],
    }
    if not cgroup_bounded:
        rlimits["NPROC"] = [settings.max_processes, settings.max_processes]
    seccomp = ("required" if settings.require_seccomp else "optional") if sandboxed else None
    return json.dumps(
        {
            "connection_file": f"{conn}/kernel.json",
            "rlimits": rlimits if sandboxed else None,
            "seccomp": seccomp,
            "cwd": scratch,
            "max_cell_output_bytes": settings.cell_output_mb * mib,
            "make_dirs": [f"{scratch}/.ipython", f"{scratch}/.config/matplotlib", f"{scratch}/.cache"],
        }
    )


@dataclass(frozen=True)
class KernelView:
    """Where the kernel sees its directories and how it is started (``argv`` without the entry config).

    ``spawn_as_user``: start the command as the unprivileged sandbox user (bwrap); otherwise the command
    itself drops privileges (the fallback launcher) or there is no sandbox (off).
    """

    scratch: str
    snapshot: str
    services: str
    conn: str
    argv_prefix: tuple[str, ...]
    env: dict[str, str]
    spawn_as_user: bool = False


def off_view(settings: SandboxSettings, dirs: KernelDirs) -> KernelView:
    """A plain local kernel on the node's interpreter, host paths, scrubbed environment (``mode="off"``)."""
    env = scrub_environ(os.environ)
    env.update(
        kernel_environ(
            bin_dir=str(Path(sys.executable).parent),
            scratch=str(dirs.scratch),
            snapshot=str(dirs.snapshot),
            services=str(dirs.services),
            pythonpath=str(_PACKAGE_DIR.parent),
            compute_threads=settings.compute_threads,
        )
    )
    env.update(settings.environment)
    env["TMPDIR"] = tempfile.gettempdir()
    return KernelView(
        scratch=str(dirs.scratch),
        snapshot=str(dirs.snapshot),
        services=str(dirs.services),
        conn=str(dirs.conn),
        argv_prefix=(sys.executable, str(_ENTRY_SCRIPT)),
        env=env,
    )


def bwrap_view(settings: SandboxSettings, staging: Staging, dirs: KernelDirs) -> KernelView:
    """The bubblewrap sandbox: own namespaces, read-only system, kernel interpreter, sandbox paths."""
    features = bwrap_features()
    plan = mount_plan(settings, staging, dirs, tmpfs_sized="--size" in features)
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxError("bubblewrap (bwrap) is not installed; run scripts/setup_sandbox.sh")
    argv = [
        bwrap,
        *bwrap_argv(plan, features)[1:],
        "--",
        settings.kernel_python,
        f"{ENTRY_MOUNT}/kernel_main.py",
    ]
    return KernelView(
        scratch=SCRATCH_MOUNT,
        snapshot=SNAPSHOT_MOUNT,
        services=SERVICES_MOUNT,
        conn=CONN_MOUNT,
        argv_prefix=tuple(argv),
        env=sandbox_env(settings),
        spawn_as_user=True,
    )


def sandbox_env(settings: SandboxSettings) -> dict[str, str]:
    """The complete environment of a sandboxed kernel."""
    return {
        **kernel_environ(
            bin_dir=str(Path(settings.kernel_python).parent),
            scratch=SCRATCH_MOUNT,
            snapshot=SNAPSHOT_MOUNT,
            services=SERVICES_MOUNT,
            pythonpath=LIB_MOUNT,
            compute_threads=settings.compute_threads,
        ),
        **dict(settings.environment),
    }


def check_socket_path(conn_dir: Path) -> None:
    """Fail early when the kernel's Unix socket paths would exceed the kernel's limit (~107 bytes)."""
    if len(str(conn_dir / "k-5")) > _MAX_SOCKET_PATH:
        raise SandboxError(f"sandbox work_dir path too long for Unix sockets: {conn_dir}")


def spawn(
    argv: list[str],
    env: dict[str, str],
    log_path: Path,
    user: SandboxUser | None,
    cgroup: KernelCgroup | None = None,
) -> subprocess.Popen:
    """Start ``argv`` from the long-lived spawner thread (so that parent-death signals fire only with us).

    ``user`` (when it asks to switch) drops the child to that uid/gid with no supplementary groups.
    ``cgroup``: the child is moved into it before it runs ``argv`` (it waits at ``_CGROUP_GATE`` until the
    node has done so), so that every process it ever starts is bounded there.
    """

    def _start() -> subprocess.Popen:
        with log_path.open("wb") as log:
            kwargs: dict = {}
            if user is not None and user.switch:
                kwargs = {"user": user.uid, "group": user.gid, "extra_groups": []}
            command = argv if cgroup is None else ["/bin/sh", "-c", _CGROUP_GATE, "sandbox-gate", *argv]
            return subprocess.Popen(
                command,
                env=env,
                cwd="/",
                stdin=subprocess.DEVNULL if cgroup is None else subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
                umask=0o077,
                **kwargs,
            )

    try:
        proc = _SPAWNER.submit(_start).result()
    except OSError as exc:
        raise SandboxError(f"cannot start {argv[0]}: {exc}") from exc
    if cgroup is not None:
        _open_gate(proc, cgroup)
    return proc


def _open_gate(proc: subprocess.Popen, cgroup: KernelCgroup) -> None:
    """Move the waiting child into ``cgroup``, then let it go on; kill it when it cannot be placed."""
    assert proc.stdin is not None
    try:
        cgroup.place(proc.pid)
        proc.stdin.write(b"go\n")
        proc.stdin.close()
    except OSError as exc:
        proc.kill()
        proc.wait()
        raise SandboxError(f"cannot put the kernel into its pids cgroup {cgroup.path}: {exc}") from exc
