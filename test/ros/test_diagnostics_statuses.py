"""What /diagnostics says of the lifecycle state, silent topics and required depth (the message builder)."""

from __future__ import annotations

import dataclasses

import pytest
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticStatus

from spatialclaw_ros.frames import CameraStats
from spatialclaw_ros.ros.diagnostics import NodeHealth, Reachability, diagnostic_array
from spatialclaw_ros.sandbox import Isolation

pytestmark = pytest.mark.ros

NODE = "/spatialclaw/spatial_agent"
STREAMING = CameraStats(
    received=50,
    kept=10,
    dropped=40,
    evicted=0,
    rejected=0,
    bytes=1000,
    rate_hz=10.0,
    last_stamp_s=5.0,
    last_error=None,
    depth_received=50,
    depth_kept=10,
    depth_rejected=0,
    camera_info=True,
)


def statuses(**fields) -> dict[str, DiagnosticStatus]:
    health = NodeHealth(
        cameras=fields.pop("cameras", {}),
        expected_cameras=("front",),
        buffer_bytes=0,
        buffer_cap_bytes=1 << 20,
        vlm=Reachability(True, "ok"),
        perception=Reachability(True, "ok"),
        warm_kernels=1,
        pool_size=1,
        sandbox_error="",
        queries_running=0,
        max_queries=2,
        **fields,
    )
    array = diagnostic_array(health, NODE, "spatialclaw", Time())
    return {status.name: status for status in array.status}


def test_the_lifecycle_state_is_reported_and_warned_about_until_active():
    inactive = statuses(lifecycle_state="inactive")[f"{NODE}: lifecycle"]
    assert inactive.level == DiagnosticStatus.WARN and "NOT_READY" in inactive.message
    active = statuses(lifecycle_state="active")[f"{NODE}: lifecycle"]
    assert active.level == DiagnosticStatus.OK


def test_a_silent_camera_names_each_topic_and_its_age():
    ages = [("/spatialclaw/front/image_raw", None), ("/spatialclaw/front/camera_info", 3.25)]
    camera = statuses(topic_ages={"front": ages})[f"{NODE}: camera front"]
    assert camera.level == DiagnosticStatus.WARN
    assert "/spatialclaw/front/image_raw (never)" in camera.message
    assert "/spatialclaw/front/camera_info (last message 3.2 s ago)" in camera.message
    values = {item.key: item.value for item in camera.values}
    assert values["age_s /spatialclaw/front/image_raw"] == "never"


def test_required_depth_is_warned_about_while_missing():
    no_depth = dataclasses.replace(STREAMING, depth_received=0, depth_kept=0)
    warned = statuses(cameras={"front": no_depth}, depth_required=("front",))[f"{NODE}: camera front"]
    assert warned.level == DiagnosticStatus.WARN and "depth required" in warned.message
    lacking = dataclasses.replace(STREAMING, depth_kept=7)
    warned = statuses(cameras={"front": lacking}, depth_required=("front",))[f"{NODE}: camera front"]
    assert warned.level == DiagnosticStatus.WARN and "3 kept frames lack it" in warned.message
    fine = statuses(cameras={"front": STREAMING}, depth_required=("front",))[f"{NODE}: camera front"]
    assert fine.level == DiagnosticStatus.OK
    auto = statuses(cameras={"front": no_depth})[f"{NODE}: camera front"]
    assert auto.level == DiagnosticStatus.OK, "depth auto: no depth is no problem"


def test_kernels_report_their_isolation_and_warn_when_it_is_weaker():
    full = Isolation("bwrap", "pids cgroup v1", "tmpfs per kernel", "required")
    kernels = statuses(isolation=full)[f"{NODE}: kernels"]
    values = {value.key: value.value for value in kernels.values}
    assert kernels.level == DiagnosticStatus.OK
    assert values["process_limit"] == "pids cgroup v1" and values["seccomp"] == "required"
    weak = Isolation("python", "RLIMIT_NPROC (per user)", "none: scratch is a host directory", "required")
    kernels = statuses(isolation=weak)[f"{NODE}: kernels"]
    assert kernels.level == DiagnosticStatus.WARN
    assert "process limit shared per user" in kernels.message and "no scratch quota" in kernels.message
