"""A query's trace stays within its share of ``trace.max_mb``; eviction spares running and recent traces."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from spatialclaw_ros.agent._images import encode_rgb
from spatialclaw_ros.agent._trace import (
    KEEP_RECENT,
    QUERY_SHARE,
    RECORD_SHARE,
    RUNNING_FILE,
    Trace,
    prune_traces,
)

MIB = 1024 * 1024


def tree_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def read_events(directory: Path) -> list[dict]:
    text = (directory / "events.jsonl").read_bytes().decode("utf-8")  # strict: valid UTF-8
    return [json.loads(line) for line in text.splitlines()]


def old_trace(root: Path, name: str, size: int, age_s: float) -> Path:
    directory = root / name
    directory.mkdir(parents=True)
    (directory / "events.jsonl").write_bytes(b"x" * size)
    stamp = time.time() - age_s
    os.utime(directory, (stamp, stamp))
    return directory


def test_a_flood_of_hundreds_of_mib_stays_within_the_query_cap(tmp_path):
    max_mb = 8.0
    trace = Trace(tmp_path, "flood", max_mb)
    assert trace.max_query_bytes == int(max_mb * MIB) // QUERY_SHARE
    trace.event("query", question="flood?")
    noise = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    output = '\x01"<' * (MIB // 3)  # 1 Mi characters that escaping makes up to 6x longer
    for step in range(200):  # 200 Mi characters of stdout, and 200 images
        trace.event("cell_result", step=step, stdout=output, status="ok")
        trace.image(encode_rgb(noise, f"noise {step}", 320, 95))
    trace.event("outcome", answer="done", error_code="NONE")
    trace.finish()
    size = tree_bytes(trace.dir)
    assert size <= trace.max_query_bytes, size
    events = read_events(trace.dir)
    markers = [event for event in events if event["kind"] == "truncated"]
    assert [marker.get("final", False) for marker in markers] == [False, True]
    assert markers[-1]["dropped_bytes"] > 200 * MIB and markers[-1]["dropped_images"] > 0
    assert [event["kind"] for event in events[-2:]] == ["outcome", "truncated"]
    assert events[0]["kind"] == "query"
    assert sum(len(json.dumps(event)) for event in trace.events) < 2 * trace.max_query_bytes
    assert trace.recorded_bytes <= trace.max_query_bytes * RECORD_SHARE
    assert "reached its size cap" in (trace.dir / "report.html").read_text(encoding="utf-8")


def test_an_event_past_the_cap_keeps_its_head_and_tail(tmp_path):
    trace = Trace(tmp_path, "cut", 1.0)  # 128 KiB per query
    trace.event("cell_result", stdout="A" * 40_000 + "B" * 40_000, status="error")
    trace.finish()
    cut = next(event for event in read_events(trace.dir) if event["kind"] == "cell_result")
    assert cut["status"] == "error" and cut["stdout"].startswith("AAA") and cut["stdout"].endswith("BBB")
    assert "characters cut by the trace cap" in cut["stdout"]


def test_a_disabled_trace_keeps_a_bounded_list_in_memory():
    trace = Trace(None, "q", 1.0)
    for _ in range(100):
        trace.event("cell_result", stdout="x" * 100_000)
    assert trace.truncated and trace.dropped_bytes > 9_000_000
    assert sum(len(json.dumps(event)) for event in trace.events) <= trace.max_query_bytes * RECORD_SHARE


def test_pruning_spares_running_and_recent_traces(tmp_path, caplog):
    old = [old_trace(tmp_path, f"old{k}", 400_000, 1000 - k) for k in range(KEEP_RECENT + 3)]
    running = Trace(tmp_path, "running", 1.0)
    running.event("cell_result", stdout="y" * 30_000)
    with caplog.at_level(logging.WARNING, "spatialclaw_ros.agent"):
        # 1 MiB in all: the first finish cannot get there without the running and the recent traces
        Trace(tmp_path, "finished", 1.0).finish()
        assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
            ["running", "finished", *[path.name for path in old[-(KEEP_RECENT - 1) :]]]
        )
        Trace(tmp_path, "third", 1.0).finish()
        Trace(tmp_path, "second", 1.0).finish()
    # only as many old ones go as the cap needs (two 400 kB ones and the new traces fit 1 MiB)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        ["running", "second", "third", "finished", old[-2].name, old[-1].name]
    )
    warnings = [record.message for record in caplog.records if "above trace.max_mb" in record.message]
    assert len(warnings) == 1
    running.finish()
    assert not (running.dir / RUNNING_FILE).exists()


def test_a_trace_running_in_another_process_is_spared_and_a_stale_one_is_not(tmp_path):
    script = (
        "import sys; from pathlib import Path; from spatialclaw_ros.agent._trace import Trace\n"
        "trace = Trace(Path(sys.argv[1]), 'other', 1.0); trace.event('x', text='z' * 50_000)\n"
        "print('ready', flush=True); sys.stdin.read(); trace.finish()\n"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout.readline().strip() == "ready"
        stale = old_trace(tmp_path, "crashed", 100_000, 500)
        (stale / RUNNING_FILE).touch()  # left behind by a process that died: nobody holds its lock
        removed = prune_traces(tmp_path, 10_000, keep_recent=0)
        assert removed == [stale] and (tmp_path / "other" / RUNNING_FILE).exists()
    finally:
        other.communicate("", timeout=60)
    assert other.returncode == 0 and not (tmp_path / "other" / RUNNING_FILE).exists()
