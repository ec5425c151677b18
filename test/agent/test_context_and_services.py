import json
from pathlib import Path
from urllib.parse import urlparse

import pytest

from spatialclaw_ros.agent import ErrorCode, QueryRequest, RoleSettings

from support.scripted_vlm import ScriptedVLM

pytestmark = pytest.mark.sandbox


def _events(outcome):
    report = Path(urlparse(outcome.trace_uri).path)
    return [json.loads(line) for line in (report.parent / "events.jsonl").read_text().splitlines()]


def test_context_overflow_shrinks_instead_of_failing(kernel, make_agent):
    with ScriptedVLM("context_overflow") as server:
        llm = {"context_tokens": 8000, "step": RoleSettings(max_tokens=512)}
        agent = make_agent(server.base_url, llm=llm, max_steps=8)
        outcome = agent.run(QueryRequest("q?"), kernel)
    assert server.errors == []
    assert outcome.error_code == ErrorCode.NONE and outcome.answer == "done"
    limit = server.scenario.context_tokens
    answered = [r for r in server.requests if r not in server.overflows]
    assert all(r.prompt_tokens + r.body["max_tokens"] <= limit for r in answered)
    context = _events(outcome)[-1]["context"]
    assert context["dropped_images"] > 0 and context["compressed_turns"] > 0


def test_vlm_ask_is_an_isolated_call_served_by_the_host(kernel, make_agent):
    with ScriptedVLM("vlm_ask") as server:
        outcome = make_agent(server.base_url).run(QueryRequest("Which colour?"), kernel)
    assert server.errors == []
    assert outcome.answer == "The square is red."
    ask = server.requests[1]
    assert [m["role"] for m in ask.messages] == ["system", "user"]
    assert "Question:" not in ask.text(1) and ask.images(1)[0].shape == (240, 320, 3)
    assert outcome.tokens["vlm_ask"][0] > 0


def test_code_request_runs_without_the_model(kernel, make_agent):
    code = "z = float(np.nanmedian(frames[-1].depth))\nReturnAnswer(z > 1.5)"
    with ScriptedVLM([]) as server:
        outcome = make_agent(server.base_url).run(
            QueryRequest("far?", answer_type="boolean", code=code), kernel
        )
    assert outcome.error_code == ErrorCode.NONE and outcome.answer == "true" and outcome.steps == 1
    assert server.requests == []


def test_code_request_that_raises_fails_with_the_line(kernel, make_agent):
    with ScriptedVLM([]) as server:
        request = QueryRequest("q", code="x = 1\ny = frames[99]")
        outcome = make_agent(server.base_url).run(request, kernel)
    assert outcome.error_code == ErrorCode.AGENT_FAILED and "at line 2" in outcome.error_message


def test_api_key_reaches_the_server_but_no_trace(kernel, make_agent, monkeypatch, tmp_path):
    monkeypatch.setenv("SPATIALCLAW_TEST_KEY", "sk-secret-4711")
    cell = "import os\nReturnAnswer(str(any('4711' in value for value in os.environ.values())))"
    with ScriptedVLM([{"content": f"```python\n{cell}\n```"}]) as server:
        agent = make_agent(server.base_url, llm={"api_key_env": "SPATIALCLAW_TEST_KEY"})
        outcome = agent.run(QueryRequest("q?"), kernel)
    assert server.requests[0].authorization == "Bearer sk-secret-4711"
    assert outcome.answer == "False"
    trace_dir = Path(urlparse(outcome.trace_uri).path).parent
    assert all(b"sk-secret-4711" not in path.read_bytes() for path in trace_dir.rglob("*") if path.is_file())


def test_html_report_is_self_contained_and_escaped(kernel, make_agent):
    cell = "print('<script>alert(1)</script>')\nshow(frames[0], label='<b>x</b>')\nReturnAnswer('<i>ok</i>')"
    with ScriptedVLM([{"content": f"```python\n{cell}\n```"}]) as server:
        outcome = make_agent(server.base_url).run(QueryRequest("<q>?"), kernel)
    html = Path(urlparse(outcome.trace_uri).path).read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;i&gt;ok&lt;/i&gt;" in html and "<i>ok</i>" not in html
    assert "src='http" not in html and "<link" not in html and "<script" not in html
    assert "<img alt='&lt;b&gt;x&lt;/b&gt;' src='data:image/jpeg;base64," in html
    assert "<span class='bi'>print</span>" in html
