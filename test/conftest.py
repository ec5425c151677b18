"""Test-session set-up shared by every test directory: an isolated ROS 2 domain on this machine."""

from __future__ import annotations

import os
from typing import IO

import pytest

from support.ros_domain import claim_domain_id

_domain_lock: IO[str] | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Isolate ROS before any test imports rclpy; child processes inherit the environment.

    The session holds a file lock on its ROS_DOMAIN_ID, so that parallel test sessions on one machine
    never share a DDS domain and never hear each other.
    """
    global _domain_lock
    domain_id, _domain_lock = claim_domain_id()
    os.environ["ROS_DOMAIN_ID"] = str(domain_id)
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    os.environ.pop("ROS_LOCALHOST_ONLY", None)
