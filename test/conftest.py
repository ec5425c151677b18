"""Test-session set-up shared by every test directory: an isolated ROS 2 domain on this machine."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

_DOMAIN_LOCK_DIR = Path("/tmp/spatialclaw-ros-domains")
_domain_lock = None


def _claim_domain_id() -> int:
    """Hold a file lock on a free ROS_DOMAIN_ID (1..100) for the whole session.

    Parallel test sessions on one machine then never share a DDS domain and never hear each other.
    """
    global _domain_lock
    _DOMAIN_LOCK_DIR.mkdir(parents=True, exist_ok=True)
    for domain_id in range(1, 101):
        handle = (_DOMAIN_LOCK_DIR / f"{domain_id}.lock").open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        _domain_lock = handle
        return domain_id
    raise RuntimeError(f"no free ROS_DOMAIN_ID: all of 1..100 are locked in {_DOMAIN_LOCK_DIR}")


def pytest_configure(config: pytest.Config) -> None:
    """Isolate ROS before any test imports rclpy; child processes inherit the environment."""
    os.environ["ROS_DOMAIN_ID"] = str(_claim_domain_id())
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    os.environ.pop("ROS_LOCALHOST_ONLY", None)
