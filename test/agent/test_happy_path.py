import numpy as np
import pytest

from spatialclaw_ros.agent import ErrorCode, QueryRequest

from support.scripted_vlm import ScriptedVLM

pytestmark = pytest.mark.sandbox


def test_answer_with_measurement_and_object(kernel, make_agent):
    with ScriptedVLM("happy_path") as server:
        agent = make_agent(server.base_url, planning=True)
        outcome = agent.run(QueryRequest("How far is the red square?", answer_type="number"), kernel)
    assert server.errors == []
    assert outcome.error_code == ErrorCode.NONE, outcome.error_message
    assert outcome.answer == "2.0" and outcome.steps == 1
    measurement = outcome.measurements[0]
    assert measurement.value == pytest.approx(2.0) and measurement.unit == "m"
    assert measurement.points.shape == (2, 3)
    assert outcome.objects[0].id == "red_square_0"
    np.testing.assert_allclose(outcome.objects[0].orientation_xyzw, [0, 0, 0, 1])
    assert len(outcome.source_stamps) == 3 and outcome.world_frame == "front_optical"
    assert set(outcome.tokens) == {"plan", "step"}


def test_first_request_holds_question_overview_and_key_frames(kernel, make_agent):
    with ScriptedVLM("happy_path") as server:
        make_agent(server.base_url, planning=True, key_frames=2).run(
            QueryRequest("How far is the red square?", answer_type="number"), kernel
        )
    first = server.requests[0]
    assert first.messages[0]["role"] == "system" and "ReturnAnswer" in first.text(0)
    task = first.text(1)
    assert "3 frames" in task and "front: 3 frames, 320×240 px" in task and "depth camera: yes" in task
    images = first.images(1)
    assert len(images) == 2 and images[0].shape == (240, 320, 3)
    assert first.messages[1]["content"][1]["text"].startswith("Image: frame 0")
    assert server.requests[1].messages[1] == first.messages[1]
