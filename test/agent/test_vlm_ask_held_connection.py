"""A query ends although its kernel still holds a vlm.ask connection (Python >= 3.12.1 waited for it)."""

import time

import pytest

from spatialclaw_ros.agent import ErrorCode, QueryRequest

from support.scripted_vlm import ScriptedVLM

pytestmark = pytest.mark.sandbox

HOLD = """
import socket
held = socket.socket(socket.AF_UNIX)
held.connect(vlm._socket_path)
ReturnAnswer("held")
"""


@pytest.mark.timeout(60)
def test_query_ends_while_its_kernel_holds_a_vlm_ask_connection(kernel, make_agent):
    with ScriptedVLM([]) as server:
        started = time.monotonic()
        outcome = make_agent(server.base_url).run(QueryRequest("q", code=HOLD), kernel)
        duration_s = time.monotonic() - started
    assert outcome.error_code == ErrorCode.NONE and outcome.answer == "held"
    assert duration_s < 10.0
    held = kernel.execute("print(held.recv(16))", timeout_s=10)
    assert held.stdout.strip() == "b''"
