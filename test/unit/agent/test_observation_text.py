import base64
import json

import numpy as np

from spatialclaw_ros.agent._observe import cut_middle, observation_text, read_cell
from spatialclaw_ros.runtime._images import encode_png
from spatialclaw_ros.runtime.namespace import STEP_MIME
from spatialclaw_ros.sandbox import CellError, CellResult, Display


def _result(**fields):
    base = dict(
        status="ok",
        stdout="",
        stderr="",
        error=None,
        displays=(),
        duration_s=0.01,
        state_lost=False,
        truncated=False,
    )
    base.update(fields)
    return CellResult(**base)


def test_cut_middle_keeps_head_and_tail():
    text = "a" * 100 + "b" * 100
    cut = cut_middle(text, 60)
    assert cut.startswith("a" * 40) and cut.endswith("b" * 20) and "140 characters cut" in cut


def test_error_names_the_failing_line():
    error = CellError(
        "ZeroDivisionError", "division by zero", "Cell In[3], line 2\n----> 2 y = 1 / 0", 2, "y = 1 / 0"
    )
    text = observation_text(
        step=1,
        max_steps=5,
        result=_result(status="error", error=error),
        report=read_cell(_result()),
        image_labels=[],
        image_note="",
        notes=[],
        output_max_chars=1000,
    )
    assert "ZeroDivisionError: division by zero at line 2: `y = 1 / 0`" in text


def test_step_report_and_images_are_read_from_displays():
    step = {
        "variables": [{"name": "d", "new": True, "summary": "float 2.5"}],
        "more_variables": 0,
        "answer": {"answer": "x"},
    }
    png = base64.b64encode(encode_png(np.zeros((4, 4, 3), np.uint8))).decode()
    displays = (
        Display({STEP_MIME: json.dumps(step)}, {}),
        Display({"image/png": png}, {"spatialclaw": {"label": "mask"}}),
    )
    report = read_cell(_result(displays=displays))
    assert report.variables[0].name == "d" and report.answer == {"answer": "x"}
    assert report.images[0][1] == "mask" and report.images[0][0].startswith(b"\x89PNG")


def test_garbage_step_report_is_ignored():
    report = read_cell(_result(displays=(Display({STEP_MIME: "{not json"}, {}),)))
    assert report.variables == () and report.answer is None
