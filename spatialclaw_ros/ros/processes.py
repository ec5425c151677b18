"""Helpers for programs that drive the node from outside: child processes, and a node spun in a thread.

Used by ``spatialclaw demo`` and by the tests that start real processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node


def stop(process: subprocess.Popen, timeout_s: float = 10.0) -> int:
    """SIGINT (as Ctrl-C or launch would), wait up to ``timeout_s``, then SIGKILL the process group.

    Returns the exit status. The process must have been started with ``start_new_session=True``.
    """
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            return process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    return process.wait()


@contextmanager
def spinning_node(name: str) -> Iterator[Node]:
    """A node in its own context, spun by a background thread for the duration of the block."""
    context = Context()
    rclpy.init(context=context)
    node = rclpy.create_node(name, context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    try:
        yield node
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=context)
        thread.join(timeout=5.0)
