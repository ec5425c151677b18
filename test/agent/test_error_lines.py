"""The model is told the failing line of its cell as it wrote it (CRLF line ends, a leading blank line)."""

import pytest

from spatialclaw_ros.agent import ErrorCode, QueryRequest

from support.scripted_vlm import ScriptedVLM

pytestmark = pytest.mark.sandbox

CRLF_CELL_FAILING_ON_LINE_5 = (
    "Dividing by the scale.\r\n```python\r\n\r\n# the wall's distance\r\ndistance_m = 2.0\r\nscale = 0\r\n"
    "ratio = distance_m / scale\r\n```\r\n"
)


def test_observation_names_the_line_of_the_cell_as_written(kernel, make_agent):
    replies = [
        {"content": CRLF_CELL_FAILING_ON_LINE_5},
        {
            "expect": ["ZeroDivisionError", "at line 5: `ratio = distance_m / scale`"],
            "content": "```python\nReturnAnswer(0.5)\n```",
        },
    ]
    with ScriptedVLM(replies) as server:
        outcome = make_agent(server.base_url).run(QueryRequest("ratio?", answer_type="number"), kernel)
    assert server.errors == []
    assert outcome.error_code == ErrorCode.NONE and outcome.answer == "0.5" and outcome.steps == 2
