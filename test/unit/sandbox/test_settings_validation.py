from pathlib import Path

import pytest

from spatialclaw_ros.sandbox import Bind, SandboxSettings


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match="mode"):
        SandboxSettings(mode="loose")


def test_non_positive_limit_is_rejected():
    with pytest.raises(ValueError, match="cpu_s"):
        SandboxSettings(cpu_s=0)


def test_bind_onto_reserved_mount_is_rejected():
    with pytest.raises(ValueError, match="reserved"):
        Bind(Path("/tmp"), "/scratch")


def test_relative_bind_target_is_rejected():
    with pytest.raises(ValueError, match="absolute"):
        Bind(Path("/tmp"), "run/x")


def test_duplicate_bind_targets_are_rejected():
    with pytest.raises(ValueError, match="twice"):
        SandboxSettings(binds=(Bind(Path("/a"), "/run/perception"), Bind(Path("/b"), "/run/perception")))


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "ROS_DOMAIN_ID", "PYTHONPATH", "LD_PRELOAD", "lower"])
def test_environment_refuses_secrets_ros_and_sandbox_variables(name):
    with pytest.raises(ValueError, match="environment"):
        SandboxSettings(environment=((name, "x"),))


def test_environment_accepts_a_plain_setting():
    settings = SandboxSettings(environment=(("SPATIALCLAW_PERCEPTION_SOCKET", "/run/perception/p.sock"),))
    assert dict(settings.environment)["SPATIALCLAW_PERCEPTION_SOCKET"] == "/run/perception/p.sock"


def test_too_few_scratch_inodes_are_rejected():
    with pytest.raises(ValueError, match="scratch_inodes"):
        SandboxSettings(scratch_inodes=10)
