"""The kernel's seccomp filter: system calls that rlimits cannot bound, or a cell never needs, fail.

Imported by the kernel entry script inside the sandbox, before any cell runs (stdlib and pyseccomp only).
Denied with EPERM: memory outside the address-space limit (memfd_create, memfd_secret), kernel attack
surface a cell has no use for (userfaultfd, keyrings, ptrace and cross-process memory access,
perf_event_open, bpf, io_uring, the kernel log, module and kexec loading, file handles), and whatever
would change the sandbox (mounts, chroot, unshare, setns, clone with namespace flags). clone3 fails with
ENOSYS, because its flags are out of a filter's reach: the C library then falls back to clone.
"""

import errno

DENIED = (
    "memfd_create",
    "memfd_secret",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "perf_event_open",
    "bpf",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "syslog",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "open_by_handle_at",
    "name_to_handle_at",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
)
#: Namespace flags of clone(2) (CLONE_NEWTIME, NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET).
CLONE_NAMESPACE_FLAGS = (
    0x80,
    0x20000,
    0x02000000,
    0x04000000,
    0x08000000,
    0x10000000,
    0x20000000,
    0x40000000,
)


def install() -> None:
    """Load the filter into this process and all its threads (TSYNC); inherited by every child.

    Raises ImportError without pyseccomp, OSError when the kernel refuses the filter.
    """
    import pyseccomp

    flt = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
    flt.set_attr(pyseccomp.Attr.CTL_TSYNC, 1)
    deny = pyseccomp.ERRNO(errno.EPERM)
    for name in DENIED:
        # An older libseccomp does not know the newest calls (memfd_secret): those stay allowed.
        if pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name) >= 0:
            flt.add_rule(deny, name)
    for flag in CLONE_NAMESPACE_FLAGS:  # the flags are clone's argument 0 on x86-64 and arm64
        flt.add_rule(deny, "clone", pyseccomp.Arg(0, pyseccomp.MASKED_EQ, flag, flag))
    flt.add_rule(pyseccomp.ERRNO(errno.ENOSYS), "clone3")
    flt.load()
