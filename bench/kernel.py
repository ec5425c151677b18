"""Sandboxed kernel figures: acquire latency, cell round trips, refill time, memory, cold vs warm query.

    python bench/kernel.py            # 6 queries from a pool of 2, 3 cold kernels
    python bench/kernel.py --quick    # 1 query, 1 cold kernel (a few seconds: the test suite runs it)

JSON fields (the last line of stdout):
- ``launcher``: the sandbox launcher in use ("bwrap", the fallback launcher, or "off")
- ``pool_size``: kernels kept warm
- ``acquire_warm.p50_ms``: ms, median time to take a warm kernel from the pool (``p90_ms`` beside it)
- ``trivial_cell.p50_ms``: ms, median round trip of the cell ``1 + 1`` (``p90_ms`` beside it)
- ``numpy_cell_256_matmul.p50_ms``: ms, median round trip of a 256×256 matmul cell (``p90_ms`` beside it)
- ``refill_after_acquire_s``: s, median time from an acquire until the pool is full again
- ``kernel_rss_mb``: MiB, median resident memory of a kernel's process tree
- ``query_3_cells_warm_pool_s``: s, median time of a 3-cell query in a warm kernel
- ``baseline_query_3_cells_cold_kernel_s``: s, the same query with the kernel started for it
"""

from __future__ import annotations

import argparse
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
        "p90_ms": round(ordered[round(0.9 * (len(ordered) - 1))] * 1000, 2),
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 query and 1 cold kernel")
    args = parser.parse_args()
    queries, cold_queries, trivial_cells, numpy_cells = (1, 1, 10, 3) if args.quick else (6, 3, 30, 10)
    size = 2
    pool = KernelPool(SandboxSettings(), size=size)
    pool.start()
    try:
        _wait_full(pool, size)
        acquire, refill, warm_query, rss = [], [], [], []
        trivial: list[float] = []
        numpy_times: list[float] = []
        for _ in range(queries):
            start = time.perf_counter()
            kernel = pool.acquire()
            acquire.append(time.perf_counter() - start)
            acquired = time.perf_counter()
            with kernel:
                _serve_query(kernel)
                warm_query.append(time.perf_counter() - acquired)
                _wait_full(pool, size)
                refill.append(time.perf_counter() - acquired)
                trivial += _round_trips(kernel, "1 + 1", trivial_cells)
                numpy_times += _round_trips(kernel, NUMPY_CELL, numpy_cells)
                rss.append(_tree_rss_mb(kernel))
        cold = []
        for _ in range(cold_queries):
            start = time.perf_counter()
            with pool.new_kernel() as kernel:
                _serve_query(kernel)
            cold.append(time.perf_counter() - start)
        figures = {
            "launcher": pool.launcher,
            "pool_size": size,
            "acquire_warm": _ms(acquire),
            "trivial_cell": _ms(trivial),
            "numpy_cell_256_matmul": _ms(numpy_times),
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
