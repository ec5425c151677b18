"""The engine answers without ROS: a code query and a scripted-VLM query from an in-memory frame source,
in a process where rclpy and the ROS message packages cannot be imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

SCRIPT = Path(__file__).with_name("engine_without_ros.py")


def test_code_and_model_queries_are_answered_with_ros_blocked():
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    for kind in ("code", "model"):
        answer = results[kind]
        assert answer["error_code"] == "NONE", answer["error_message"]
        assert float(answer["answer"]) == pytest.approx(2.0) and answer["measurements"] == [2.0]
        assert answer["source_frames"] == 1 and answer["points"] > 0
    assert results["unknown_camera"]["error_code"] == "INVALID_QUERY"
    assert "unknown cameras ['left']" in results["unknown_camera"]["error_message"]
    assert results["model_requests"] == 1
    assert results["ros_modules_loaded"] == []
