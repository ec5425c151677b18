"""Sandboxed kernel figures: acquire latency, cell round trips, refill time, memory, cold vs warm query."""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spatialclaw_ros.sandbox import Kernel, KernelPool, SandboxSettings

QUERY = ["import numpy as np\nx = np.random.rand(480, 640)", "float(np.median(x))", "print(x.shape)"]
NUMPY_CELL = "float(np.linalg.norm(np.random.rand(256, 256) @ np.random.rand(256, 256)))"


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 2),
    }


def _round_trips(kernel: Kernel, code: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        result = kernel.execute(code)
        times.append(time.perf_counter() - start)
        assert result.status == "ok", result
    return times


def _tree_rss_mb(kernel: Kernel) -> float:
    root = psutil.Process(kernel.pid)
    return sum(proc.memory_info().rss for proc in [root, *root.children(recursive=True)]) / 2**20


def _serve_query(kernel: Kernel) -> None:
    for cell in QUERY:
        assert kernel.execute(cell).status == "ok"


def _wait_full(pool: KernelPool, size: int, timeout_s: float = 120.0) -> float:
    start = time.perf_counter()
    while pool.warm_count < size:
        if time.perf_counter() - start > timeout_s:
            raise TimeoutError("pool did not refill")
        time.sleep(0.01)
    return time.perf_counter() - start


def main() -> None:
    """Measure and print one JSON line."""
    size = 2
    pool = KernelPool(SandboxSettings(), size=size)
    pool.start()
    try:
        _wait_full(pool, size)
        acquire, refill, warm_query, rss = [], [], [], []
        trivial: list[float] = []
        numpy_cells: list[float] = []
        for _ in range(6):
            start = time.perf_counter()
            kernel = pool.acquire()
            acquire.append(time.perf_counter() - start)
            acquired = time.perf_counter()
            with kernel:
                _serve_query(kernel)
                warm_query.append(time.perf_counter() - acquired)
                _wait_full(pool, size)
                refill.append(time.perf_counter() - acquired)
                trivial += _round_trips(kernel, "1 + 1", 30)
                numpy_cells += _round_trips(kernel, NUMPY_CELL, 10)
                rss.append(_tree_rss_mb(kernel))
        cold = []
        for _ in range(3):
            start = time.perf_counter()
            with pool.new_kernel() as kernel:
                _serve_query(kernel)
            cold.append(time.perf_counter() - start)
        figures = {
            "launcher": pool.launcher,
            "pool_size": size,
            "acquire_warm": _ms(acquire),
            "trivial_cell": _ms(trivial),
            "numpy_cell_256_matmul": _ms(numpy_cells),
            "refill_after_acquire_s": round(statistics.median(refill), 3),
            "kernel_rss_mb": round(statistics.median(rss), 1),
            "query_3_cells_warm_pool_s": round(statistics.median(warm_query), 4),
            "baseline_query_3_cells_cold_kernel_s": round(statistics.median(cold), 3),
        }
    finally:
        pool.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
