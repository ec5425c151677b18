"""Finding the pids cgroup hierarchies from /proc/self/mountinfo and /proc/self/cgroup."""

from pathlib import Path

from spatialclaw_ros.sandbox._cgroup import PidsHierarchy, pids_hierarchies

HYBRID_MOUNTS = """\
30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec shared:10 - cgroup2 cgroup2 rw
40 30 0:36 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec shared:20 - cgroup cgroup rw,pids
41 30 0:37 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec shared:21 - cgroup cgroup rw,memory
"""
HYBRID_CGROUPS = "8:pids:/system.slice/robot.service\n4:memory:/x\n0::/system.slice/robot.service\n"


def test_hybrid_host_lists_v2_then_v1_at_the_nodes_own_cgroup():
    found = pids_hierarchies(HYBRID_MOUNTS, HYBRID_CGROUPS)
    assert found == [
        PidsHierarchy(
            2, Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup/unified/system.slice/robot.service")
        ),
        PidsHierarchy(1, Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup/pids/system.slice/robot.service")),
    ]


def test_pure_v2_host():
    mounts = "30 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
    found = pids_hierarchies(mounts, "0::/user.slice/node.scope\n")
    assert found == [PidsHierarchy(2, Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/user.slice/node.scope"))]


def test_container_mount_of_its_own_subtree_is_resolved_relative_to_its_root():
    mounts = "50 40 0:36 /docker/abc /sys/fs/cgroup/pids ro,nosuid - cgroup cgroup rw,pids\n"
    found = pids_hierarchies(mounts, "5:pids:/docker/abc/kernels\n")
    assert found == [PidsHierarchy(1, Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup/pids/kernels"))]


def test_a_mount_of_another_subtree_is_left_out():
    mounts = "50 40 0:36 /docker/other /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
    assert pids_hierarchies(mounts, "5:pids:/docker/abc\n") == []


def test_escaped_mount_point_is_decoded():
    mounts = "50 40 0:36 / /mnt/cg\\040pids rw - cgroup cgroup rw,pids\n"
    found = pids_hierarchies(mounts, "5:pids:/\n")
    assert found == [PidsHierarchy(1, Path("/mnt/cg pids"), Path("/mnt/cg pids"))]


def test_no_pids_controller_anywhere():
    mounts = "41 30 0:37 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    assert pids_hierarchies(mounts, "4:memory:/\n") == []
