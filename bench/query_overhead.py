"""Agent overhead per query with a scripted VLM that answers instantly (real HTTP, real sandboxed kernels).

Measures, for a 5-step query (4 cells that compute and print, then ReturnAnswer; planning off):
- time from query start (kernel acquire + snapshot write + agent start) to the first VLM request (as
  the server receives it), and the same from the agent's start only;
- overhead per step: wall time between two consecutive VLM requests minus the kernel's time inside
  that gap (see below; the last cell, ReturnAnswer's, follows the last request and lies in no gap);
- total wall time of the query;
- where that time goes, per stage, from the ``stage_s`` the trace's ``llm_request`` events carry;
each over N queries, for (a) warm kernels from a KernelPool and (b) the baseline: a cold kernel
started per query (its start counted in the query). Prints one JSON line.

    scripts/env.sh python bench/query_overhead.py [--queries 10] [--mode strict]
    scripts/env.sh python bench/query_overhead.py --quick    # 2 warm queries, 1 cold (the test suite runs it)

The snapshot comes from one frame buffer that lives across queries, as the node's does (3 frames of
320×240 RGB + depth), through the buffer's snapshot cache.

Stages before the first request: ``acquire`` (the kernel from the pool), ``snapshot_write`` (the
frames written to the kernel's snapshot directory), then the agent's: ``snapshot`` (the host reads
it), ``ask_server`` (the ``vlm.ask`` socket), ``key_frames`` (JPEG encoding), ``prompt`` (system and
task turns), ``request`` (conversation fit and messages), ``trace`` (event and image writes),
``other`` (the agent's time not in a stage), ``to_server`` (from the request event to the server
receiving it: the HTTP client). Stages of a step (per request gap, the cell's own run time left out):
``server`` (the scripted server's own time, receiving to answering), ``llm_step`` (the rest of the
HTTP call: client and reply parsing), ``reply`` (parsing the cell out of it), ``cell_handover`` (the
kernel call around the cell's own run time: thread hops, messages), ``observation`` (results read,
observation built), ``request``, ``trace``, ``other``. The kernel's own time in a gap is left out of
the step overhead: the cells' run time and the wait for the bootstrap cell (the cell that loads the
query's namespace runs while the first request is out; with this instant server part of it is left
to wait for before the first cell, reported as ``bootstrap_wait_ms``, with a real model none).

JSON fields (the last line of stdout); each figure is an object ``{"p50": …, "p90": …}`` over the queries:
- ``bench``: "query_overhead"
- ``mode``: the sandbox mode ("strict" or "off")
- ``steps_per_query``: VLM requests per query (cells: the same, the last one calls ReturnAnswer)
- ``queries``: count, warm-pool queries measured
- ``warm_pool.first_request_ms``: ms, from taking the kernel to the server receiving the first request
- ``warm_pool.first_request_after_snapshot_ms``: ms, the same from the agent's start (snapshot written)
- ``warm_pool.step_overhead_ms``: ms, a request gap minus the kernel's time inside it (mean per query)
- ``warm_pool.cell_ms``: ms, a cell's run time in the kernel
- ``warm_pool.bootstrap_ms``: ms, the run time of the cell that loads the query's namespace
- ``warm_pool.bootstrap_wait_ms``: ms, how long the first cell waited for it after the first reply
- ``warm_pool.total_ms``: ms, the whole query
- ``warm_pool.first_request_stages_ms``: ms per stage before the first request (names above)
- ``warm_pool.step_stages_ms``: ms per stage of a step's overhead (names above; mean per query)
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "test")]

from agent.conftest import scene_buffer  # noqa: E402

from spatialclaw_ros.agent import Agent, AgentSettings, LLMSettings, QueryRequest  # noqa: E402
from spatialclaw_ros.frames import FrameBuffer, write_snapshot  # noqa: E402
from spatialclaw_ros.sandbox import Kernel, KernelPool, SandboxSettings  # noqa: E402

from support.scripted_vlm import ScriptedVLM  # noqa: E402

STEP = "Next.\n```python\nz_m = float(np.nanmedian(frames[-1].depth))\nprint(z_m)\n```"
ANSWER = "Done.\n```python\nReturnAnswer(z_m, measurements=[Measurement('depth', z_m)])\n```"
STEPS = 5
FIRST_REQUEST_STAGES = (
    "acquire",
    "snapshot_write",
    "snapshot",
    "ask_server",
    "key_frames",
    "prompt",
    "request",
    "trace",
    "other",
    "to_server",
)
STEP_STAGES = (
    "server",
    "llm_step",
    "reply",
    "cell_handover",
    "observation",
    "request",
    "trace",
    "other",
)
SCENE_FRAMES = 3

Figures = dict[str, dict[str, float]]


def _one_query(
    agent: Agent,
    kernel_source: Callable[[], Kernel],
    server: ScriptedVLM,
    pool: KernelPool | None,
    buffer: FrameBuffer,
) -> Figures:
    """Run one query on a snapshot of ``buffer``; its figures (ms): ``totals``, ``*_stages``."""
    server.requests.clear()
    server.scenario.cursor = 0
    while pool is not None and pool.warm_count < pool.size:
        time.sleep(0.02)
    started = time.monotonic()
    kernel = kernel_source()
    try:
        acquired = time.monotonic()
        write_snapshot(buffer, kernel.snapshot_dir, window_s=60.0, max_frames=SCENE_FRAMES)
        query_started = time.monotonic()
        outcome = agent.run(QueryRequest("How far is the wall?", answer_type="number"), kernel)
        ended = time.monotonic()
    finally:
        kernel.close()
    if not outcome.ok:
        raise RuntimeError(f"query failed: {outcome.error_code} {outcome.error_message}")
    arrivals = [request.received_s for request in server.requests]
    events = [json.loads(line) for line in Path(outcome.trace_uri[7:]).with_name("events.jsonl").open()]
    requests = [event for event in events if event["kind"] == "llm_request"]
    cells = [event for event in events if event["kind"] == "cell_result"]
    if len(requests) != len(arrivals):
        raise RuntimeError(f"the trace holds {len(requests)} requests, the server received {len(arrivals)}")
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    gap_cells = _kernel_time_in_gaps_s(requests, cells)
    overheads = [gap_s - cell_s for gap_s, cell_s in zip(gaps, gap_cells, strict=True)]
    first = requests[0]
    first_stages = {stage: first["stage_s"].get(stage, 0.0) for stage in FIRST_REQUEST_STAGES}
    first_stages.update(
        acquire=acquired - started,
        snapshot_write=query_started - acquired,
        other=first["t_s"] - sum(first["stage_s"].values()),
        to_server=arrivals[0] - query_started - first["t_s"],
    )
    served = [request.answered_s - request.received_s for request in server.requests]
    step_stages = _step_stages_s(requests, gap_cells, overheads, served)
    return {
        "totals": {
            "first_request_ms": 1000 * (arrivals[0] - started),
            "first_request_after_snapshot_ms": 1000 * (arrivals[0] - query_started),
            "step_overhead_ms": 1000 * statistics.mean(overheads),
            "cell_ms": 1000 * statistics.median(cell["duration_s"] for cell in cells),
            "bootstrap_ms": 1000
            * next(event["duration_s"] for event in events if event["kind"] == "bootstrap"),
            "bootstrap_wait_ms": 1000 * requests[-1]["stage_s"].get("bootstrap_wait", 0.0),
            "total_ms": 1000 * (ended - started),
        },
        "first_request_stages": {stage: 1000 * seconds for stage, seconds in first_stages.items()},
        "step_stages": {stage: 1000 * seconds for stage, seconds in step_stages.items()},
    }


def _kernel_time_in_gaps_s(requests: list[dict[str, Any]], cells: list[dict[str, Any]]) -> list[float]:
    """Per gap between two requests, the kernel's time (s) inside it: the run time of the cells the trace
    records there, and the wait for the bootstrap cell (it runs while the first request is out; what is
    left of it when the first reply is back is waited for before the first cell)."""
    return [
        sum(cell["duration_s"] for cell in cells if earlier["t_s"] < cell["t_s"] < later["t_s"])
        + later["stage_s"].get("bootstrap_wait", 0.0)
        - earlier["stage_s"].get("bootstrap_wait", 0.0)
        for earlier, later in itertools.pairwise(requests)
    ]


def _step_stages_s(
    requests: list[dict[str, Any]], gap_cells_s: list[float], overheads_s: list[float], served_s: list[float]
) -> dict[str, float]:
    """Mean seconds per request gap spent in each step stage (the stage totals' growth across the gap).

    ``served_s``: per request, the server's own time from receiving it to answering.
    """
    sums = dict.fromkeys(STEP_STAGES, 0.0)
    for (earlier, later), cell_s, overhead_s, server_s in zip(
        itertools.pairwise(requests), gap_cells_s, overheads_s, served_s, strict=False
    ):
        grown = {
            stage: later["stage_s"][stage] - earlier["stage_s"].get(stage, 0.0) for stage in later["stage_s"]
        }
        grown["cell_handover"] = grown.pop("cell", 0.0) + grown.pop("bootstrap_wait", 0.0) - cell_s
        grown["server"] = server_s
        grown["llm_step"] = grown.get("llm_step", 0.0) - server_s
        attributed = 0.0
        for stage in STEP_STAGES[:-1]:
            sums[stage] += grown.get(stage, 0.0)
            attributed += grown.get(stage, 0.0)
        sums["other"] += overhead_s - attributed
    return {stage: total / len(overheads_s) for stage, total in sums.items()}


def _summary(runs: list[Figures]) -> dict[str, Any]:
    """Per figure, its median and 90th percentile over the runs; stage figures grouped by stage."""
    out: dict[str, Any] = _percentiles([run["totals"] for run in runs])
    out["first_request_stages_ms"] = _percentiles([run["first_request_stages"] for run in runs])
    out["step_stages_ms"] = _percentiles([run["step_stages"] for run in runs])
    return out


def _percentiles(runs: list[dict[str, float]]) -> dict[str, dict[str, float]]:
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
        buffer = scene_buffer(SCENE_FRAMES)
        pool = KernelPool(sandbox, size=2)
        pool.start()
        try:
            _one_query(agent, lambda: pool.acquire(120.0), server, pool, buffer)
            warm = [
                _one_query(agent, lambda: pool.acquire(120.0), server, pool, buffer)
                for _ in range(args.queries)
            ]
        finally:
            pool.close()
        cold_pool = KernelPool(sandbox, size=0)
        cold_pool.start()
        try:
            cold = [
                _one_query(agent, lambda: cold_pool.acquire(120.0), server, None, buffer)
                for _ in range(cold_queries)
            ]
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
                "targets": {"first_request_ms_p50": 25, "step_overhead_ms_p50": 3},
            }
        )
    )


if __name__ == "__main__":
    main()
