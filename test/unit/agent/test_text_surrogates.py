"""Lone surrogates never stop a trace line, a VLM request or a report: they become U+FFFD."""

from __future__ import annotations

import json

from spatialclaw_ros.agent._conversation import Turn
from spatialclaw_ros.agent._trace import Trace
from spatialclaw_ros.protocol.text import clean_text, clean_value, utf8


def test_lone_surrogates_become_replacement_characters_and_pairs_join():
    assert clean_text("a\ud800b\udfff") == "a\ufffdb\ufffd"
    assert clean_text("\ud83d\ude00 \udc00\ud800") == "\U0001f600 \ufffd\ufffd"
    assert clean_text("plain é ✓") == "plain é ✓"
    assert utf8("x\ud800") == "x\ufffd".encode()


def test_clean_value_walks_dicts_lists_and_tuples():
    value = {"k\ud800": ["\udc00", ("t\ud800", 1.5)], "n": None}
    assert clean_value(value) == {"k\ufffd": ["\ufffd", ("t\ufffd", 1.5)], "n": None}


def test_a_trace_records_surrogates_as_valid_utf8(tmp_path):
    trace = Trace(tmp_path, "q", 10.0)
    trace.event("query", question="why\ud800?")
    trace.event("cell_result", stdout="out\udfff", answer={"answer": "a\ud800b"})
    trace.event("outcome", answer="a\ud800b")
    trace.finish()
    lines = (trace.dir / "events.jsonl").read_bytes().decode("utf-8").splitlines()
    assert [json.loads(line).get("stdout") for line in lines][1] == "out\ufffd"
    report = (trace.dir / "report.html").read_bytes().decode("utf-8")
    assert "why\ufffd?" in report and "out\ufffd" in report


def test_a_vlm_message_with_a_surrogate_is_valid_utf8_json():
    body = Turn("user", "observation", "stdout:\nx\ud800y").message_json()
    assert json.loads(body.decode("utf-8")) == {"role": "user", "content": "stdout:\nx\ufffdy"}
