"""Lone surrogates from a kernel or in an answer reach the model, the trace and the outcome as U+FFFD."""

from __future__ import annotations

import json

import pytest

from spatialclaw_ros.agent import ErrorCode, QueryRequest

from support.scripted_vlm import ScriptedVLM

pytestmark = pytest.mark.sandbox

# The kernel sends text UTF-8 cannot carry as JSON escapes; it reaches the host as lone surrogates.
SURROGATE_OUTPUT = """
print("x\\ud800y")
display({"text/plain": "d\\udfffe"}, raw=True)
"""


def fenced(code: str) -> str:
    return f"```python\n{code.strip()}\n```"


def test_lone_surrogates_in_output_displays_and_answer(kernel, make_agent, tmp_path):
    replies = [
        {"content": fenced(SURROGATE_OUTPUT)},
        {"expect": ["x\ufffdy", "d\ufffde"], "content": fenced('ReturnAnswer("a\\ud800b")')},
    ]
    with ScriptedVLM(replies) as server:
        outcome = make_agent(server.base_url).run(QueryRequest("Which text?"), kernel)
    assert server.errors == []
    assert outcome.error_code == ErrorCode.NONE, outcome.error_message
    assert outcome.answer == "a\ufffdb"
    (trace_dir,) = (tmp_path / "traces").iterdir()
    text = (trace_dir / "events.jsonl").read_bytes().decode("utf-8")  # strict: valid UTF-8
    events = [json.loads(line) for line in text.splitlines()]
    result = next(event for event in events if event["kind"] == "cell_result")
    assert result["stdout"] == "x\ufffdy\n"
    assert events[-1]["kind"] == "outcome" and events[-1]["answer"] == "a\ufffdb"
    assert "a\ufffdb" in (trace_dir / "report.html").read_bytes().decode("utf-8")
