"""What a real query puts on the wire: string content for text-only turns, content parts only with images."""

import pytest

from spatialclaw_ros.agent import ErrorCode, QueryRequest

from support.scripted_vlm import ScriptedVLM

pytestmark = pytest.mark.sandbox

PLAN = {"content": "1. Look. 2. Answer."}
PRINT = {"content": "```python\nprint(len(frames))\n```"}
SHOW = {"content": "```python\nshow(frames[-1].image, label='last frame')\n```"}
ANSWER = {"content": "```python\nReturnAnswer('ok')\n```"}


def _kinds(request):
    return [(message["role"], type(message["content"]).__name__) for message in request.messages]


def test_text_only_turns_are_sent_as_strings(kernel, make_agent):
    with ScriptedVLM([PLAN, PRINT, ANSWER]) as server:
        outcome = make_agent(server.base_url, planning=True, key_frames=0).run(QueryRequest("q?"), kernel)
    assert outcome.error_code == ErrorCode.NONE, outcome.error_message
    assert _kinds(server.requests[-1]) == [
        ("system", "str"),
        ("user", "str"),
        ("user", "str"),
        ("assistant", "str"),
        ("user", "str"),
        ("assistant", "str"),
        ("user", "str"),
    ]


def test_only_turns_with_images_are_content_parts(kernel, make_agent):
    with ScriptedVLM([SHOW, ANSWER]) as server:
        outcome = make_agent(server.base_url, key_frames=2).run(QueryRequest("q?"), kernel)
    assert outcome.error_code == ErrorCode.NONE, outcome.error_message
    last = server.requests[-1]
    assert _kinds(last) == [("system", "str"), ("user", "list"), ("assistant", "str"), ("user", "list")]
    assert len(last.images(1)) == 2 and len(last.images(-1)) == 1
    assert "Image: last frame" in last.text(-1)
