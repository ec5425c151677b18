"""What a hostile neighbour costs another query: its latency, and the node's and perception service's memory.

Real everything but the VLM: one Agent (the node's event loop and its vlm.ask servers), a sandboxed kernel
pool, the perception service started as the node starts it (its own user when run as root; labels
backend) reached through each query's relay, and the scripted OpenAI-compatible server over HTTP.

The victim is a VLM query of one step whose cell segments a labelled 320×240 frame with ``tools.segment``,
asks ``vlm.ask`` about a frame and returns; its latency is the wall time of ``Agent.run``. First it runs
alone (``--victims`` times, median); then, for each attack, a hostile code query runs its cell in
another kernel of the pool for ``--attack-s`` seconds while the victim runs again and again, at least
``--victims`` times (median: the loaded latency). The node's RSS (this process) and the service's RSS
(its process tree) are sampled every 20 ms; the growth is the peak during the attack minus the level
just before it. After each attack one more victim query must answer (``benign_after``).

Attacks (each a real cell, written as a hostile model would write it):
- ``perception_zip_bomb``: .npz requests whose 700-byte deflated member inflates to 286 MiB, in a loop
- ``perception_deep_json``: requests whose JSON meta nests 200 000 levels deep, in a loop
- ``perception_max_body``: requests as large as the service accepts (90 MiB of image), in a loop
- ``perception_queue_flood``: 16 threads keep large segment requests (2000×2000) queued, then the
  query ends with them in flight (its work must be dropped)
- ``vlm_png_bomb``: vlm.ask with a 9000×9000 PNG (a few hundred KiB) in a loop
- ``vlm_other_formats``: vlm.ask with TIFF, WebP, BMP, PGM images in a loop
- ``vlm_held_connections``: 8 connections to vlm.sock that declare 64 MiB bodies and send 60 MiB each
- ``vlm_huge_prompt``: vlm.ask with a 10 M-character question, raw, in a loop
- ``output_flood``: print 1 MiB lines as fast as the kernel takes them
- ``fork_bomb``: fork until refused, children sleeping
- ``memfd``: memfd_create and 640 MiB written into it
- ``scratch_fill``: files in scratch until refused (size, then inodes)
- ``cpu_burn``: numpy busy loops on every thread the kernel may use

    scripts/env.sh python bench/hostile.py [--victims 3] [--attack-s 6] [--only NAME,...]
    scripts/env.sh python bench/hostile.py --quick      # 1 victim run, 2 s per attack (the test suite)

JSON fields (the last line of stdout):
- ``bench``: "hostile"
- ``victim_unloaded_s``: s, the victim's median latency alone
- ``attacks[].name``: the attack
- ``attacks[].victim_loaded_s``: s, the victim's median latency beside it
- ``attacks[].victim_runs``: victim queries run beside it
- ``attacks[].latency_ratio``: victim_loaded_s / victim_unloaded_s
- ``attacks[].within_latency_bound``: victim_loaded_s <= 1.5 × victim_unloaded_s + 1 s
- ``attacks[].node_rss_growth_mib``: MiB, peak growth of the node (this process)
- ``attacks[].service_rss_growth_mib``: MiB, peak growth of the perception service
- ``attacks[].within_memory_bound``: both growths <= 100 MiB
- ``attacks[].attacker_outcome``: the hostile query's error code (NONE when its cell ended normally)
- ``attacks[].attacker_saw``: the first line the hostile cell printed about what stopped it
- ``attacks[].benign_after``: a victim query answered after the attack
- ``limits.latency``: the latency bound, as text
- ``limits.memory_mib``: MiB, the memory bound
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "test")]

from agent.conftest import write_scene  # noqa: E402

from spatialclaw_ros.agent import Agent, AgentSettings, LLMSettings, QueryOutcome, QueryRequest  # noqa: E402
from spatialclaw_ros.engine import PerceptionLink, open_perception  # noqa: E402
from spatialclaw_ros.perception import PerceptionSettings  # noqa: E402
from spatialclaw_ros.sandbox import KernelPool, SandboxSettings  # noqa: E402

from support.scripted_vlm import ScriptedVLM  # noqa: E402

MEMORY_BOUND_MIB = 100.0
SERVICE_USER = "spatialclaw-perception"
CELLS = Path(__file__).resolve().with_name("hostile_cells")
ATTACKS = sorted(path.stem for path in CELLS.glob("[!_]*.py"))
DEFAULT_DEADLINE = "DEADLINE = time.time() + 5.0"
# Errors that say an attack cell is wrong (not that a bound stopped it): the bench fails on them.
BROKEN_CELL_ERRORS = ("NameError", "SyntaxError", "ImportError", "AttributeError", "TypeError")
LABELS = PerceptionSettings(
    segmenter="labels", depth="sensor", reconstructor="none", label_map=((1, "chair"),)
)

VICTIM_CELL = """Segment, ask, answer.
```python
import types
lab = np.zeros((240, 320), np.uint16); lab[60:120, 80:160] = 1
found = tools.segment(types.SimpleNamespace(index=0, image=frames[-1].image, labels=lab), "chair")
said = vlm.ask(frames[-1], "What colour is the square?")
ReturnAnswer(float(found.masks.sum()))
```"""


class RssPeak:
    """Samples the RSS (bytes) of some processes every 20 ms in a thread; ``peak`` since :meth:`reset`."""

    def __init__(self, processes: Callable[[], list[psutil.Process]]) -> None:
        """Sample the processes ``processes()`` returns, summed."""
        self._processes = processes
        self.base = self.peak = self._now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _now(self) -> int:
        total = 0
        for process in self._processes():
            with contextlib.suppress(psutil.Error):
                total += process.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._now())

    def reset(self) -> None:
        """Start a new measurement from the present level."""
        self.base = self.peak = self._now()

    def growth_mib(self) -> float:
        """Peak minus base since the last reset, MiB."""
        return (self.peak - self.base) / 2**20

    def stop(self) -> None:
        """End sampling."""
        self._stop.set()
        self._thread.join()


def _service_tree(link: PerceptionLink) -> list[psutil.Process]:
    pid = link.process.pid if link.process is not None else None
    if pid is None:
        return []
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def main() -> None:
    """Run the victim alone, then beside each attack; print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--victims", type=int, default=3)
    parser.add_argument("--attack-s", type=float, default=6.0)
    parser.add_argument("--only", default="", help="comma-separated attack names")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.victims, args.attack_s = 1, 2.0
        args.only = args.only or "perception_zip_bomb,vlm_png_bomb,output_flood"
    names = [name for name in args.only.split(",") if name] or ATTACKS
    unknown = sorted(set(names) - set(ATTACKS))
    if unknown:
        parser.error(f"unknown attacks {unknown}; known: {ATTACKS}")

    user = SERVICE_USER if os.geteuid() == 0 else ""
    link = open_perception("", LABELS, service_user=user)
    work = Path(tempfile.mkdtemp(prefix="hostile-bench-"))
    pool = KernelPool(SandboxSettings(mode="strict"), size=3)
    pool.start()
    node = RssPeak(lambda: [psutil.Process()])
    service = RssPeak(lambda: _service_tree(link))
    try:
        with ScriptedVLM([{"content": VICTIM_CELL, "repeat": True}]) as server:
            llm = LLMSettings(base_url=server.base_url, model="scripted-vlm", retries=0)
            settings = AgentSettings(
                planning=False,
                max_steps=3,
                timeout_s=60.0,
                trace_dir=work / "traces",
                trace_max_mb=200.0,
                perception=link.upstream,
                key_frames=1,
            )
            agent = Agent(llm, settings)

            def victim() -> float:
                with pool.acquire(120.0) as kernel:
                    write_scene(kernel.snapshot_dir)
                    started = time.monotonic()
                    outcome = agent.run(QueryRequest("How big is the chair?", answer_type="number"), kernel)
                    took = time.monotonic() - started
                if not outcome.ok:
                    raise RuntimeError(f"victim failed: {outcome.error_code} {outcome.error_message}")
                return took

            victim()  # warm-up: imports, caches
            unloaded = statistics.median(victim() for _ in range(args.victims))
            results = [_attack(name, args, agent, pool, victim, unloaded, node, service) for name in names]
            agent.close()
    finally:
        node.stop()
        service.stop()
        pool.close()
        link.close()
        shutil.rmtree(work, ignore_errors=True)
    print(
        json.dumps(
            {
                "bench": "hostile",
                "victim_unloaded_s": round(unloaded, 3),
                "attacks": results,
                "limits": {"latency": "1.5 x unloaded + 1 s", "memory_mib": MEMORY_BOUND_MIB},
            }
        )
    )


def _attack(
    name: str,
    args: argparse.Namespace,
    agent: Agent,
    pool: KernelPool,
    victim: Callable[[], float],
    unloaded: float,
    node: RssPeak,
    service: RssPeak,
) -> dict[str, object]:
    """One attack beside the victim: its figures."""
    prelude = (CELLS / "_prelude.py").read_text()
    prelude = prelude.replace(DEFAULT_DEADLINE, f"DEADLINE = time.time() + {args.attack_s!r}")
    code = prelude + (CELLS / f"{name}.py").read_text()
    result: dict[str, QueryOutcome] = {}
    started = threading.Event()

    def attacker() -> None:
        with pool.acquire(120.0) as kernel:
            write_scene(kernel.snapshot_dir)
            started.set()
            request = QueryRequest(f"attack {name}", code=code, timeout_s=args.attack_s + 30)
            result["outcome"] = agent.run(request, kernel)

    node.reset()
    service.reset()
    thread = threading.Thread(target=attacker)
    thread.start()
    started.wait()
    time.sleep(0.5)  # the cell is under way
    latencies = [victim()]
    while thread.is_alive() or len(latencies) < args.victims:
        latencies.append(victim())
    thread.join()
    loaded = statistics.median(latencies)
    node_growth, service_growth = node.growth_mib(), service.growth_mib()
    try:
        victim()
        benign_after = True
    except RuntimeError:
        benign_after = False
    outcome = result.get("outcome")
    saw = ""
    if outcome is not None:
        events = Path(outcome.trace_uri.removeprefix("file://")).with_name("events.jsonl")
        saw = _printed_line(events)
    return {
        "name": name,
        "victim_loaded_s": round(loaded, 3),
        "victim_runs": len(latencies),
        "latency_ratio": round(loaded / unloaded, 2),
        "within_latency_bound": loaded <= 1.5 * unloaded + 1.0,
        "node_rss_growth_mib": round(node_growth, 1),
        "service_rss_growth_mib": round(service_growth, 1),
        "within_memory_bound": max(node_growth, service_growth) <= MEMORY_BOUND_MIB,
        "attacker_outcome": outcome.error_code if outcome is not None else "none",
        "attacker_saw": saw,
        "benign_after": benign_after,
    }


def _printed_line(events: Path) -> str:
    """The last short line the hostile cell printed (or its error), at most 200 characters."""
    if not events.exists():
        return ""
    for line in reversed(events.read_text(errors="replace").splitlines()):
        event = json.loads(line)
        if event.get("kind") == "cell_result":
            error = event.get("error") or ""
            if any(name in error for name in BROKEN_CELL_ERRORS):
                raise RuntimeError(f"the attack cell itself is broken, it measured nothing: {error[:300]}")
            text = (event.get("stdout") or "") + error
            short = [part for part in text.splitlines() if len(part) < 400]
            return short[-1][:200] if short else ""
    return ""


if __name__ == "__main__":
    main()
