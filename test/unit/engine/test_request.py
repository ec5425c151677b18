"""A request is checked once, by the engine: every malformed field is INVALID_QUERY with its reason."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from spatialclaw_ros.engine import MAX_FRAMES, MAX_TIMEOUT_S, Request


def test_a_plain_question_and_a_code_request_are_acceptable():
    assert Request("how far?").problem() is None
    assert Request(code="ReturnAnswer(1)").problem() is None
    assert Request("which?", answer_type="choice", choices=("left", "right")).problem() is None


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (Request("  "), "question is empty"),
        (Request("q", answer_type="yes/no"), "answer_type must be one of"),
        (Request("q", answer_type="choice"), "non-empty choices"),
        (Request("q", answer_type="choice", choices=("a", " ")), "non-empty choices"),
        (Request("q", answer_type="choice", choices=("a", "a")), "choices must be unique"),
        (Request("q", choices=("a",)), 'only allowed with answer_type "choice"'),
        (Request("q", window_s=-1.0), "window_s"),
        (Request("q", window_s=math.nan), "window_s"),
        (Request("q", timeout_s=math.inf), "timeout_s"),
        (Request("q", timeout_s=MAX_TIMEOUT_S + 1), "timeout_s"),
        (Request("q", max_frames=MAX_FRAMES + 1), "max_frames"),
        (Request("q", cameras=("front", "front")), "cameras must be unique"),
    ],
)
def test_each_malformed_field_is_named(request_, reason):
    assert reason in request_.problem()


def test_a_message_with_the_same_fields_becomes_a_request():
    message = SimpleNamespace(
        question="q",
        cameras=["front"],
        window_s=2.0,
        max_frames=4,
        target_frame="map",
        answer_type="choice",
        choices=["a", "b"],
        code="",
        timeout_s=5.0,
    )
    request = Request.of(message)
    assert request == Request("q", ("front",), 2.0, 4, "map", "choice", ("a", "b"), "", 5.0)
