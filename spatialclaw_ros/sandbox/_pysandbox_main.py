"""Fallback sandbox where bubblewrap is missing: namespaces, a private root, rlimits, setuid, Landlock.

Executed as a script (``python -I -S _pysandbox_main.py CONFIG -- COMMAND...``, stdlib only) by the host,
as root or as an unprivileged user (then inside a new user namespace). ``CONFIG`` is JSON: ``plan`` (mount
steps as in ``_launch.Mount``), ``new_root`` (an empty host directory to build the root in), ``uid``/``gid``
(the user to drop to when started as root, else null), ``writable`` (sandbox paths Landlock lets the
command write), ``chdir``. The command runs as PID 2 of a new PID namespace under a reaping PID 1; the
namespace dies with this process.
"""

import ctypes
import fcntl
import json
import os
import platform
import signal
import socket
import struct
import sys
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 32, 1024, 2048, 4096, 16384
MS_PRIVATE, MS_RELATIME = 1 << 18, 1 << 21
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
SIOCSIFFLAGS, IFF_UP = 0x8914, 0x1
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
_LANDLOCK_CREATE, _LANDLOCK_ADD_RULE, _LANDLOCK_RESTRICT = 444, 445, 446
_DEVICES = ("null", "zero", "full", "random", "urandom", "tty")

libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> int:
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")
    return result


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {source} on {target}",
    )


def _locked_flags(path: str) -> int:
    """Mount flags of ``path``'s mount that a user namespace may not clear on remount."""
    st_flags = os.statvfs(path).f_flag
    flags = 0
    for st_bit, ms_bit in (
        (2, MS_NOSUID),
        (4, MS_NODEV),
        (8, MS_NOEXEC),
        (1024, MS_NOATIME),
        (2048, MS_NODIRATIME),
    ):
        if st_flags & st_bit:
            flags |= ms_bit
    if st_flags & 4096:
        flags |= MS_RELATIME
    return flags


def _bind(source: str, target: str, read_only: bool) -> None:
    if Path(source).is_dir():
        Path(target).mkdir(mode=0o755, parents=True, exist_ok=True)
    else:
        Path(target).parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        Path(target).touch(mode=0o644, exist_ok=True)
    _mount(source, target, None, MS_BIND | MS_REC)
    if read_only:
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | _locked_flags(target))


def _write(path: str, text: str) -> None:
    Path(path).write_text(text)


def _enter_user_namespace() -> None:
    uid, gid = os.geteuid(), os.getegid()
    _check(libc.unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")


def _build_root(plan: list, new_root: str) -> None:
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", new_root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    for step in plan:
        kind, dest, source = step["kind"], new_root + step["dest"], step["source"]
        if kind in ("bind", "ro-bind"):
            _bind(source, dest, read_only=kind == "ro-bind")
        elif kind == "dir":
            Path(dest).mkdir(mode=0o755, parents=True, exist_ok=True)
        elif kind == "symlink":
            Path(dest).symlink_to(source)
        elif kind == "tmpfs":
            Path(dest).mkdir(mode=0o755, parents=True, exist_ok=True)
            size = f",size={step['size_bytes']}" if step["size_bytes"] else ""
            _mount("tmpfs", dest, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777{size}")
        elif kind == "proc":
            Path(dest).mkdir(mode=0o755, parents=True, exist_ok=True)
            _mount("proc", dest, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        elif kind == "dev":
            Path(dest).mkdir(mode=0o755, parents=True, exist_ok=True)
            _mount("tmpfs", dest, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k")
            for device in _DEVICES:
                _bind(f"/dev/{device}", f"{dest}/{device}", read_only=False)
            for name, target in (
                ("fd", "/proc/self/fd"),
                ("stdin", "/proc/self/fd/0"),
                ("stdout", "/proc/self/fd/1"),
                ("stderr", "/proc/self/fd/2"),
            ):
                Path(f"{dest}/{name}").symlink_to(target)
            Path(f"{dest}/shm").mkdir(mode=0o1777)
            Path(f"{dest}/pts").mkdir(mode=0o755)
            _mount(
                "devpts",
                f"{dest}/pts",
                "devpts",
                MS_NOSUID | MS_NOEXEC,
                "newinstance,ptmxmode=0666,mode=0620",
            )
            Path(f"{dest}/ptmx").symlink_to("pts/ptmx")
        else:
            raise ValueError(f"unknown mount kind {kind!r}")
    pivot = _PIVOT_ROOT.get(platform.machine())
    if pivot is None:
        raise OSError(f"pivot_root: unsupported machine {platform.machine()}")
    old_root = f"{new_root}/.old_root"
    Path(old_root).mkdir(mode=0o700)
    _check(libc.syscall(pivot, new_root.encode(), old_root.encode()), "pivot_root")
    os.chdir("/")
    _check(libc.umount2(b"/.old_root", MNT_DETACH), "umount old root")
    Path("/.old_root").rmdir()
    _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", IFF_UP)
        fcntl.ioctl(sock.fileno(), SIOCSIFFLAGS, request)


def _landlock(writable: list) -> str:
    """Restrict the filesystem with Landlock where the kernel has it; returns the ABI or why it is missing.

    Read and execute anywhere; write (create, remove, ...) only beneath the ``writable`` paths; write to
    device files (/dev/null) but create nothing in /dev.
    """
    abi = libc.syscall(_LANDLOCK_CREATE, None, 0, 1)
    if abi < 1:
        return f"unavailable ({os.strerror(ctypes.get_errno())})"
    read = 1 | 4 | 8
    handled = (1 << 13) - 1
    if abi >= 2:
        handled |= 1 << 13
    if abi >= 3:
        handled |= 1 << 14
    attr = struct.pack("Q", handled)
    ruleset = _check(libc.syscall(_LANDLOCK_CREATE, attr, len(attr), 0), "landlock_create_ruleset")
    for path, access in [("/", read), *((entry, handled) for entry in writable), ("/dev", read | 2)]:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        try:
            rule = struct.pack("=Qi", access, fd)
            _check(libc.syscall(_LANDLOCK_ADD_RULE, ruleset, 1, rule, 0), f"landlock_add_rule {path}")
        finally:
            os.close(fd)
    _check(libc.syscall(_LANDLOCK_RESTRICT, ruleset, 0), "landlock_restrict_self")
    os.close(ruleset)
    return f"abi {abi}"


def _drop_privileges(uid: int | None, gid: int | None) -> None:
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 and ctypes.get_errno() == 22:
            break
    if uid is not None and gid is not None:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    header = struct.pack("Ii", 0x20080522, 0)
    _check(libc.capset(header, bytes(24)), "capset (drop all capabilities)")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")


def _init(config: dict, command: list) -> int:
    """PID 1 of the sandbox: build the root, drop privileges, run the command, reap, exit with it."""
    kernel_umask = os.umask(0o022)
    _build_root(config["plan"], config["new_root"])
    os.umask(kernel_umask)
    _loopback_up()
    socket.sethostname("sandbox")
    os.setsid()
    _drop_privileges(config["uid"], config["gid"])
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    _landlock(config["writable"])
    os.chdir(config["chdir"])
    child = os.fork()
    if child == 0:
        os.execv(command[0], command)
    while True:
        pid, status = os.wait()
        if pid == child:
            return os.waitstatus_to_exitcode(status)


def main() -> None:
    """Parse ``CONFIG -- COMMAND...``, enter the namespaces, run PID 1 in a child, exit with its status."""
    config = json.loads(sys.argv[1])
    command = sys.argv[sys.argv.index("--") + 1 :]
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.geteuid() != 0:
        _enter_user_namespace()
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    _check(libc.unshare(flags), "unshare")
    pid = os.fork()
    if pid == 0:
        try:
            code = _init(config, command)
        except BaseException as exc:
            sys.stderr.write(f"sandbox launcher: {exc}\n")
            sys.stderr.flush()
            os._exit(126)
        os._exit(code if code >= 0 else 128 - code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
