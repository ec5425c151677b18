"""A model server's error reaches the answer in its own words, with the code of who is at fault."""

import pytest

from spatialclaw_ros.agent import ErrorCode, QueryRequest

from support.scripted_vlm import ScriptedVLM

pytestmark = pytest.mark.sandbox


def test_a_bad_request_is_agent_failed_with_the_servers_message(kernel, make_agent):
    error = {"message": "Invalid 'messages[1].content': expected a string", "type": "invalid_request_error"}
    with ScriptedVLM([{"status": 400, "error": error}]) as server:
        outcome = make_agent(server.base_url).run(QueryRequest("q?"), kernel)
    assert outcome.error_code == ErrorCode.AGENT_FAILED
    assert "HTTP 400: Invalid 'messages[1].content': expected a string" in outcome.error_message
    assert len(server.requests) == 1


def test_an_unknown_model_is_model_unavailable_with_the_servers_message(kernel, make_agent):
    error = {"message": "The model `scripted-vlm` does not exist.", "code": "model_not_found"}
    with ScriptedVLM([{"status": 404, "error": error}]) as server:
        outcome = make_agent(server.base_url).run(QueryRequest("q?"), kernel)
    assert outcome.error_code == ErrorCode.MODEL_UNAVAILABLE
    assert "HTTP 404: The model `scripted-vlm` does not exist." in outcome.error_message


def test_a_plain_text_server_error_reaches_the_message(kernel, make_agent):
    text = "Internal Server Error: can only concatenate str (not 'list') to str"
    with ScriptedVLM([{"status": 500, "text": text, "repeat": True}]) as server:
        outcome = make_agent(server.base_url).run(QueryRequest("q?"), kernel)
    assert outcome.error_code == ErrorCode.MODEL_UNAVAILABLE
    assert f"3 attempt(s): HTTP 500: {text}" in outcome.error_message
    assert len(server.requests) == 3
