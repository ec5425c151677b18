"""Agent overhead per query with a scripted VLM that answers instantly (real HTTP, real sandboxed kernels).

Measures, for a 5-step query (4 cells that compute and print, then ReturnAnswer):
- time from query start (kernel acquire + snapshot write + agent start) to the first VLM request (as
  the server receives it), and the same from the agent's start only;
- overhead per step: wall time between two consecutive VLM requests minus the cell's own run time;
- total wall time of the query;
each over N queries, for (a) warm kernels from a KernelPool and (b) the baseline: a cold kernel
started per query (its start counted in the query). Prints one JSON line.

Usage: PYTHONPATH=.:test .venv/bin/python bench/query_overhead.py [--queries 10] [--mode strict]
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
    cells = [event["duration_s"] for event in events if event["kind"] == "cell_result"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    step_overhead = [gap - cell for gap, cell in zip(gaps, cells, strict=True)]
    return {
        "first_request_ms": 1000 * (arrivals[0] - started),
        "first_request_after_snapshot_ms": 1000 * (arrivals[0] - query_started),
        "step_overhead_ms": 1000 * statistics.median(step_overhead),
        "cell_ms": 1000 * statistics.median(cells),
        "total_ms": 1000 * (ended - started),
    }


def _summary(runs: list[dict[str, float]]) -> dict[str, float]:
    keys = runs[0].keys()
    out: dict[str, float] = {}
    for key in keys:
        values = sorted(run[key] for run in runs)
        out[f"{key}_p50"] = round(statistics.median(values), 2)
        out[f"{key}_p90"] = round(values[min(len(values) - 1, int(0.9 * len(values)))], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=10)
    parser.add_argument("--mode", choices=("strict", "off"), default="strict")
    args = parser.parse_args()
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
            cold = [_one_query(agent, cold_kernel, server, None) for _ in range(max(3, args.queries // 2))]
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
