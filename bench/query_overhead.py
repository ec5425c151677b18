"""Agent overhead per query with a scripted VLM that answers instantly (real HTTP, real sandboxed kernels).

Measures, for a 5-step query (4 cells that compute and print, then ReturnAnswer):
- time from query start (kernel acquire + snapshot write + agent start) to the first VLM request (as
  the server receives it), and the same from the agent's start only;
- overhead per step: wall time between two consecutive VLM requests minus the cell's own run time;
- total wall time of the query;
each over N queries, for (a) warm kernels from a KernelPool and (b) the baseline: a cold kernel
started per query (its start counted in the query). Prints one JSON line.

    scripts/env.sh python bench/query_overhead.py [--queries 10] [--mode strict]
    scripts/env.sh python bench/query_overhead.py --quick    # 2 warm queries, 1 cold (the test suite runs it)

JSON fields (the last line of stdout); each figure is an object ``{"p50": …, "p90": …}`` over the queries:
- ``bench``: "query_overhead"
- ``mode``: the sandbox mode ("strict" or "off")
- ``steps_per_query``: VLM requests per query (cells: the same, the last one calls ReturnAnswer)
- ``queries``: count, warm-pool queries measured
- ``warm_pool.first_request_ms``: ms, from taking the kernel to the server receiving the first request
- ``warm_pool.first_request_after_snapshot_ms``: ms, the same from the agent's start (snapshot written)
- ``warm_pool.step_overhead_ms``: ms, a request gap minus the run time of the cell inside it
- ``warm_pool.cell_ms``: ms, a cell's run time in the kernel
- ``warm_pool.total_ms``: ms, the whole query
- ``baseline_cold_kernel_per_query.first_request_ms``: ms, as above with a kernel started per query
- ``baseline_cold_kernel_per_query.step_overhead_ms``: ms, as above
- ``baseline_cold_kernel_per_query.total_ms``: ms, as above
- ``targets.first_request_ms_p50``: ms, the target for the warm pool
- ``targets.step_overhead_ms_p50``: ms, the target for the warm pool
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "test")]

from agent.conftest import write_scene  # noqa: E402

from spatialclaw_ros.agent import Agent, AgentSettings, LLMSettings, QueryRequest  # noqa: E402
from spatialclaw_ros.sandbox import Kernel, KernelPool, SandboxSettings  # noqa: E402

from support.scripted_vlm import ScriptedVLM  # noqa: E402

STEP = "Next.\n```python\nz_m = float(np.nanmedian(frames[-1].depth))\nprint(z_m)\n```"
ANSWER = "Done.\n```python\nReturnAnswer(z_m, measurements=[Measurement('depth', z_m)])\n```"
STEPS = 5


def _one_query(agent: Agent, kernel_source, server: ScriptedVLM, pool: KernelPool | None) -> dict[str, float]:
    server.requests.clear()
    server.scenario.cursor = 0
    while pool is not None and pool.warm_count < pool.size:
        time.sleep(0.02)
    started = time.monotonic()
    kernel: Kernel = kernel_source()
    try:
        write_scene(kernel.snapshot_dir)
        query_started = time.monotonic()
        outcome = agent.run(QueryRequest("How far is the wall?", answer_type="number"), kernel)
        ended = time.monotonic()
    finally:
        kernel.close()
    if not outcome.ok:
        raise RuntimeError(f"query failed: {outcome.error_code} {outcome.error_message}")
    arrivals = [request.received_s for request in server.requests]
    events = [json.loads(line) for line in Path(outcome.trace_uri[7:]).with_name("events.jsonl").open()]
    cells = [event for event in events if event["kind"] == "cell_result"]
    step_overhead = [
        gap_s - cell_s for gap_s, cell_s in zip(_gaps_s(arrivals), _cells_in_gaps_s(events), strict=True)
    ]
    return {
        "first_request_ms": 1000 * (arrivals[0] - started),
        "first_request_after_snapshot_ms": 1000 * (arrivals[0] - query_started),
        "step_overhead_ms": 1000 * statistics.median(step_overhead),
        "cell_ms": 1000 * statistics.median(cell["duration_s"] for cell in cells),
        "total_ms": 1000 * (ended - started),
    }


def _gaps_s(arrivals: list[float]) -> list[float]:
    """Seconds between consecutive VLM requests as the server received them."""
    return [later - earlier for earlier, later in itertools.pairwise(arrivals)]


def _cells_in_gaps_s(events: list[dict[str, Any]]) -> list[float]:
    """Per request gap, the run time (s) of the cells the trace records between its two requests.

    The last cell (ReturnAnswer) follows the last request and lies in no gap.
    """
    requests = [event["t_s"] for event in events if event["kind"] == "llm_request"]
    cells = [event for event in events if event["kind"] == "cell_result"]
    return [
        sum(cell["duration_s"] for cell in cells if earlier < cell["t_s"] < later)
        for earlier, later in itertools.pairwise(requests)
    ]


def _summary(runs: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Per figure, its median and 90th percentile over the runs."""
    out: dict[str, dict[str, float]] = {}
    for key in runs[0]:
        values = sorted(run[key] for run in runs)
        p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
        out[key] = {"p50": round(statistics.median(values), 2), "p90": round(p90, 2)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=10)
    parser.add_argument("--mode", choices=("strict", "off"), default="strict")
    parser.add_argument("--quick", action="store_true", help="2 warm-pool queries and 1 cold-kernel query")
    args = parser.parse_args()
    if args.quick:
        args.queries = 2
    cold_queries = 1 if args.quick else max(3, args.queries // 2)
    replies = [{"content": STEP}] * (STEPS - 1) + [{"content": ANSWER}]
    sandbox = SandboxSettings(mode=args.mode)
    with tempfile.TemporaryDirectory() as traces, ScriptedVLM(replies) as server:
        llm = LLMSettings(base_url=server.base_url, model="scripted-vlm")
        agent = Agent(llm, AgentSettings(planning=False, max_steps=STEPS + 1, trace_dir=Path(traces)))
        pool = KernelPool(sandbox, size=2)
        pool.start()
        try:
            _one_query(agent, lambda: pool.acquire(120.0), server, pool)
            warm = [_one_query(agent, lambda: pool.acquire(120.0), server, pool) for _ in range(args.queries)]
        finally:
            pool.close()
        cold_pool = KernelPool(sandbox, size=0)
        cold_pool.start()

        def cold_kernel() -> Kernel:
            return cold_pool.acquire(120.0)

        try:
            cold = [_one_query(agent, cold_kernel, server, None) for _ in range(cold_queries)]
        finally:
            cold_pool.close()
        agent.close()
    print(
        json.dumps(
            {
                "bench": "query_overhead",
                "mode": args.mode,
                "steps_per_query": STEPS,
                "queries": args.queries,
                "warm_pool": _summary(warm),
                "baseline_cold_kernel_per_query": _summary(cold),
                "targets": {"first_request_ms_p50": 150, "step_overhead_ms_p50": 30},
            }
        )
    )


if __name__ == "__main__":
    main()
