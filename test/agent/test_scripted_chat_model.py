"""The state machine over a real kernel (the real Executor) and a scripted ChatModel (no HTTP at all).

Each test names the transitions it proves (see spatialclaw_ros/agent/_machine.py for the table).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from agent.scripted_chat import ScriptedChatModel, cell

from spatialclaw_ros.agent import Agent, AgentSettings, ErrorCode, LLMSettings, QueryRequest
from spatialclaw_ros.agent._prompts import render

pytestmark = pytest.mark.sandbox

MEASURE_THE_WALL = (
    "d = float(np.nanmedian(frames[-1].depth))\n"
    "ReturnAnswer(round(d, 1), measurements=[Measurement('wall distance', d)])"
)


@pytest.fixture
def agent_for(tmp_path: Path) -> Iterator:
    agents: list[Agent] = []

    def make(model: ScriptedChatModel, **settings) -> Agent:
        options = {"planning": False, "trace_dir": tmp_path / "traces", "max_steps": 6, "timeout_s": 60.0}
        agent = Agent(LLMSettings(), AgentSettings(**{**options, **settings}), chat_model=model)
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        agent.close()


def test_a_cell_measures_in_the_kernel_and_answers(kernel, agent_for):
    """PREPARE -> STEP -> OBSERVE -> ANSWERED, the cell run by the sandboxed kernel."""
    model = ScriptedChatModel([cell(MEASURE_THE_WALL)])
    outcome = agent_for(model).run(QueryRequest("How far is the wall?", answer_type="number"), kernel)
    assert outcome.error_code == ErrorCode.NONE, outcome.error_message
    assert outcome.answer == "2.0" and outcome.measurements[0].value == pytest.approx(2.0)
    assert model.roles == ["step"] and outcome.tokens["step"][0] > 0


def test_a_killed_kernel_is_set_up_again_before_the_next_cell(kernel, agent_for):
    """STEP -> OBSERVE (state lost: the namespace is loaded into the restarted kernel) -> STEP -> ANSWERED."""
    kill = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"
    model = ScriptedChatModel([cell(kill), cell("ReturnAnswer(len(frames))")])
    outcome = agent_for(model).run(QueryRequest("How many frames?"), kernel)
    assert outcome.error_code == ErrorCode.NONE, outcome.error_message
    assert outcome.answer == "3" and outcome.steps == 2
    assert render("restarted") in model.calls[1].text()


def test_a_cell_past_its_time_limit_is_observed_and_stepped_on(kernel, agent_for):
    """STEP -> OBSERVE (the kernel stopped the cell at cell_timeout_s) -> STEP -> OBSERVE -> ANSWERED."""
    model = ScriptedChatModel([cell("import time\ntime.sleep(30)"), cell("ReturnAnswer('late')")])
    outcome = agent_for(model, cell_timeout_s=1.0).run(QueryRequest("q?"), kernel)
    assert outcome.error_code == ErrorCode.NONE and outcome.answer == "late"
    assert "the cell ran past its time limit and was stopped" in model.calls[1].text()


def test_vlm_ask_from_a_cell_is_answered_by_the_chat_model(kernel, agent_for):
    """STEP (the cell's vlm.ask is one isolated vlm_ask call of the model) -> OBSERVE -> STEP -> ANSWERED."""
    ask = "print('vlm:', vlm.ask([frames[0]], 'Which colour is the square?'))"
    model = ScriptedChatModel([cell(ask), "It is red.", cell("ReturnAnswer('red')")])
    outcome = agent_for(model).run(QueryRequest("Which colour?"), kernel)
    assert outcome.error_code == ErrorCode.NONE and outcome.answer == "red"
    assert model.roles == ["step", "vlm_ask", "step"]
    assert [message["role"] for message in model.calls[1].messages] == ["system", "user"]
    assert "vlm: It is red." in model.calls[2].text() and outcome.tokens["vlm_ask"][0] > 0
