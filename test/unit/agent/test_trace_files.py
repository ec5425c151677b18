import os
import time

import numpy as np

from spatialclaw_ros.agent._images import encode_rgb
from spatialclaw_ros.agent._trace import Trace, prune_traces, safe_query_id


def test_trace_writes_events_images_and_report(tmp_path):
    trace = Trace(tmp_path, "q/1", 100.0)
    path = trace.image(encode_rgb(np.zeros((8, 8, 3), np.uint8), "img", 1024, 80))
    trace.event("query", question="<b>why</b>")
    trace.event("message", role="user", turn="task", text="<x>", images=[{"path": path, "label": "<l>"}])
    trace.event("outcome", answer="a", error_code="NONE")
    trace.finish()
    assert trace.dir.name == "q_1" and trace.uri.startswith("file://")
    html = (trace.dir / "report.html").read_text()
    assert "&lt;b&gt;why&lt;/b&gt;" in html and "<x>" not in html and "data:image/jpeg;base64," in html
    assert len((trace.dir / "events.jsonl").read_text().splitlines()) == 3


def test_prune_removes_oldest_first_and_keeps_the_current(tmp_path):
    for k in range(3):
        directory = tmp_path / f"t{k}"
        directory.mkdir()
        (directory / "events.jsonl").write_bytes(b"x" * 1000)
        os.utime(directory, (time.time() - 100 + k, time.time() - 100 + k))
    removed = prune_traces(tmp_path, 2500, keep=tmp_path / "t0", keep_recent=0)
    assert removed == [tmp_path / "t1"] and (tmp_path / "t0").exists() and (tmp_path / "t2").exists()


def test_disabled_trace_has_no_uri():
    trace = Trace(None, "q", 1.0)
    trace.event("x")
    trace.finish()
    assert trace.uri == "" and trace.events[0]["kind"] == "x"


def test_safe_ids():
    assert safe_query_id("../../etc") == "etc" and safe_query_id("")
