"""The pool's refill: held back while a query that just took its kernel starts, at once when it must be."""

from __future__ import annotations

import time

import pytest

from spatialclaw_ros.sandbox import KernelPool, SandboxSettings
from spatialclaw_ros.sandbox._pool import REFILL_SETTLE_S

pytestmark = pytest.mark.sandbox


def _wait_for(condition, timeout_s: float) -> float:
    """Seconds until ``condition()`` held; fails past ``timeout_s``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout_s, "timed out"
        time.sleep(0.005)
    return time.monotonic() - started


def test_a_refill_waits_while_warm_kernels_remain():
    with KernelPool(SandboxSettings(mode="strict"), size=2) as pool:
        _wait_for(lambda: pool.warm_count == 2 and pool.starting == 0, 120.0)
        with pool.acquire(timeout_s=10.0):
            started_after_s = _wait_for(lambda: pool.starting == 1, 10.0)
        _wait_for(lambda: pool.warm_count == 2, 120.0)
    assert started_after_s >= 0.9 * REFILL_SETTLE_S


def test_an_empty_pool_refills_at_once():
    with KernelPool(SandboxSettings(mode="strict"), size=1) as pool:
        _wait_for(lambda: pool.warm_count == 1 and pool.starting == 0, 120.0)
        with pool.acquire(timeout_s=10.0):
            started_after_s = _wait_for(lambda: pool.starting == 1, 10.0)
    assert started_after_s < 0.5 * REFILL_SETTLE_S
