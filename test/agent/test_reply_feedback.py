import pytest

from spatialclaw_ros.agent import ErrorCode, QueryRequest

from support.scripted_vlm import ScriptedVLM

pytestmark = pytest.mark.sandbox


def test_no_code_becomes_feedback_then_prose_around_code_runs(kernel, make_agent):
    with ScriptedVLM("prose_then_no_code") as server:
        outcome = make_agent(server.base_url).run(QueryRequest("How far is the wall?"), kernel)
    assert server.errors == []
    assert outcome.error_code == ErrorCode.NONE and outcome.answer == "2.0 m"
    assert outcome.steps == 1
    assert "I should measure" not in server.requests[1].text(-2)


def test_cell_error_then_fixed_cell(kernel, make_agent):
    with ScriptedVLM("error_then_fix") as server:
        outcome = make_agent(server.base_url).run(QueryRequest("ratio?", answer_type="number"), kernel)
    assert server.errors == []
    assert outcome.answer == "0.5" and outcome.steps == 2


def test_invalid_answers_become_feedback_then_valid_one(kernel, make_agent):
    with ScriptedVLM("invalid_then_valid") as server:
        outcome = make_agent(server.base_url).run(QueryRequest("How far?", answer_type="number"), kernel)
    assert server.errors == []
    assert outcome.error_code == ErrorCode.NONE and outcome.answer == "2.0"
    assert outcome.measurements[0].value == pytest.approx(2.0) and outcome.measurements[0].unit == "m"


def test_failure_budget_ends_the_query(kernel, make_agent):
    with ScriptedVLM([{"content": "no code here", "repeat": True}]) as server:
        outcome = make_agent(server.base_url, max_failures=2).run(QueryRequest("How far?"), kernel)
    assert outcome.error_code == ErrorCode.AGENT_FAILED and "no usable cell" in outcome.error_message
    assert len(server.requests) == 2 and outcome.steps == 0


def test_show_images_reach_the_next_request(kernel, make_agent):
    with ScriptedVLM("show_images") as server:
        outcome = make_agent(server.base_url).run(QueryRequest("What is there?"), kernel)
    assert server.errors == []
    assert outcome.answer == "seen"
    first, mask = server.requests[1].images()
    assert first.shape == (240, 320, 3) and first[100, 110, 0] > 180 and first[100, 110, 1] < 80
    assert mask.shape == (240, 320, 3) and mask[100, 110, 0] > 200 and mask[10, 10, 0] < 50


def test_final_answer_only_call_after_the_step_budget(kernel, make_agent):
    with ScriptedVLM("final_fallback") as server:
        outcome = make_agent(server.base_url, max_steps=2).run(QueryRequest("How far?"), kernel)
    assert server.errors == []
    assert outcome.error_code == ErrorCode.NONE and outcome.final_fallback
    assert outcome.answer == "2.0" and outcome.steps == 3
    assert "final" in outcome.tokens


def test_step_budget_without_final_call_fails(kernel, make_agent):
    with ScriptedVLM([{"content": "```python\nx = 1\n```", "repeat": True}]) as server:
        outcome = make_agent(server.base_url, max_steps=2, final_answer=False).run(QueryRequest("q?"), kernel)
    assert outcome.error_code == ErrorCode.AGENT_FAILED and "used all its steps" in outcome.error_message
    assert len(server.requests) == 2
