"""A query flooding its trace stays within its share of trace.max_mb; the normal one beside it keeps its own.

Real kernels and the scripted VLM over HTTP. The flooding query prints, shows images and answers with
megabytes of points; it keeps running past its cap and answers. Its neighbour's trace stays byte for byte
what it was when its query ended, while older traces are evicted to make room.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
from agent.conftest import write_scene

from spatialclaw_ros.agent import ErrorCode, QueryRequest
from spatialclaw_ros.agent._trace import QUERY_SHARE

from support.scripted_vlm import ScriptedVLM

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

MAX_MB = 4.0
MIB = 1024 * 1024
FLOOD_CELL = """```python
import sys
noise = np.random.default_rng(len(frames)).integers(0, 255, (240, 320, 3), dtype=np.uint8)
for _ in range(20):  # 20 M characters a cell, each message under the kernel's message cap
    print('\\x01"<' * 166_667, flush=True)
    print('\\x02' * 500_000, file=sys.stderr, flush=True)
for k in range(4):
    show(noise, label=f"noise {k}")
```"""
FLOOD_ANSWER = """```python
points = np.random.default_rng(1).normal(size=(10_000, 3))
ReturnAnswer("flooded", measurements=[Measurement(f"m{k}", 1.0, points=points) for k in range(10)])
```"""


def files(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes() for path in directory.rglob("*") if path.is_file()
    }


def tree_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def test_a_flood_stays_within_its_cap_and_spares_its_neighbour(pool, make_agent, tmp_path):
    root = tmp_path / "traces"
    for k in range(6):  # older traces, 4.2 MB: eviction must make room among these only
        old = root / f"old{k}"
        old.mkdir(parents=True)
        (old / "events.jsonl").write_bytes(b"x" * 700_000)
        os.utime(old, (time.time() - 1000 + k, time.time() - 1000 + k))
    settings = {"trace_max_mb": MAX_MB, "max_steps": 8, "max_failures": 8}
    flood_server = ScriptedVLM([{"content": FLOOD_CELL, "repeat_count": 5}, {"content": FLOOD_ANSWER}])
    with flood_server, ScriptedVLM("happy_path") as normal_server, pool.acquire(60.0) as flood_kernel:
        write_scene(flood_kernel.snapshot_dir)
        flooding = make_agent(flood_server.base_url, **settings)
        flood = {}
        thread = threading.Thread(
            target=lambda: flood.update(
                outcome=flooding.run(QueryRequest("flood", query_id="flood"), flood_kernel)
            )
        )
        thread.start()
        with pool.acquire(60.0) as kernel:
            write_scene(kernel.snapshot_dir)
            normal = make_agent(normal_server.base_url, planning=True, **settings).run(
                QueryRequest("How far is the red square?", answer_type="number", query_id="normal"), kernel
            )
        normal_files = files(root / "normal")
        thread.join(120.0)
    assert normal.error_code == ErrorCode.NONE, normal.error_message
    assert flood["outcome"].error_code == ErrorCode.NONE and flood["outcome"].answer == "flooded"
    assert files(root / "normal") == normal_files
    events = [json.loads(line) for line in (root / "flood" / "events.jsonl").read_text("utf-8").splitlines()]
    markers = [event for event in events if event["kind"] == "truncated"]
    assert len(markers) == 2 and markers[-1]["final"] and markers[-1]["dropped_bytes"] > 1 * MIB
    flood_bytes, normal_bytes, total = (
        tree_bytes(root / "flood"),
        tree_bytes(root / "normal"),
        tree_bytes(root),
    )
    print(f"flood trace {flood_bytes} B, normal trace {normal_bytes} B, all traces {total} B")
    assert flood_bytes <= MAX_MB * MIB / QUERY_SHARE
    assert total <= MAX_MB * MIB
    assert not (root / "old0").exists() and (root / "old5").exists()
