import threading
import time

import pytest

from spatialclaw_ros.agent import CancelToken, ErrorCode, QueryRequest

from support.scripted_vlm import ScriptedVLM, free_port

pytestmark = pytest.mark.sandbox

ANSWER = {"content": "```python\nReturnAnswer('ok')\n```"}


def test_server_errors_are_retried(kernel, make_agent):
    with ScriptedVLM([{"status": 500}, {"status": 502}, ANSWER]) as server:
        outcome = make_agent(server.base_url).run(QueryRequest("q?"), kernel)
    assert outcome.error_code == ErrorCode.NONE and outcome.answer == "ok"
    assert len(server.requests) == 3


def test_server_down_is_model_unavailable(kernel, make_agent):
    agent = make_agent(f"http://127.0.0.1:{free_port()}/v1")
    started = time.monotonic()
    outcome = agent.run(QueryRequest("q?"), kernel)
    assert outcome.error_code == ErrorCode.MODEL_UNAVAILABLE and outcome.answer == ""
    assert time.monotonic() - started < 5.0


def test_slow_server_ends_at_the_time_budget(kernel, make_agent):
    with ScriptedVLM([{"content": "late", "delay_s": 30, "repeat": True}]) as server:
        outcome = make_agent(server.base_url, final_reserve_s=0.5).run(
            QueryRequest("q?", timeout_s=2.0), kernel
        )
    assert outcome.error_code == ErrorCode.TIMEOUT
    assert 1.9 < outcome.elapsed_s < 3.0


def test_cancel_as_a_cell_starts(kernel, make_agent):
    cancel = CancelToken()
    sleeper = {"content": "```python\nimport time\ntime.sleep(30)\n```"}

    def on_progress(update):
        if update.summary.startswith("running cell"):
            cancel.cancel()

    with ScriptedVLM([sleeper, ANSWER]) as server:
        outcome = make_agent(server.base_url).run(
            QueryRequest("q?"), kernel, progress=on_progress, cancel=cancel
        )
    assert outcome.error_code == ErrorCode.CANCELED
    assert outcome.elapsed_s < 3.0 and len(server.requests) == 1


def test_cancel_while_waiting_for_the_model(kernel, make_agent):
    cancel = CancelToken()
    with ScriptedVLM([{"content": "late", "delay_s": 30}]) as server:
        threading.Timer(0.5, cancel.cancel).start()
        outcome = make_agent(server.base_url).run(QueryRequest("q?"), kernel, cancel=cancel)
    assert outcome.error_code == ErrorCode.CANCELED and outcome.elapsed_s < 2.0


def test_progress_reports_stages(kernel, make_agent):
    seen = []
    with ScriptedVLM([{"content": "1. measure"}, ANSWER]) as server:
        make_agent(server.base_url, planning=True).run(QueryRequest("q?"), kernel, progress=seen.append)
    stages = [update.stage for update in seen]
    assert stages[0] == "planning" and "step" in stages and stages[-1] == "done"
    assert seen[-1].step == 1 and seen[-1].max_steps == 6 and seen[-1].elapsed_s > 0
