"""Waiting on a test-side node's futures and conditions (the node: ``spatialclaw_ros.ros.processes``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from rclpy.task import Future

from spatialclaw_ros.ros.processes import spinning_node

__all__ = ["spinning_node", "wait_for_future", "wait_until"]


def wait_for_future(future: Future, timeout_s: float) -> Any:
    """The future's result; raises TimeoutError if it is not done within ``timeout_s``."""
    done = threading.Event()
    future.add_done_callback(lambda _future: done.set())
    if not done.wait(timeout_s):
        raise TimeoutError(f"no result within {timeout_s} s")
    return future.result()


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``condition`` until it holds; raises TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)
