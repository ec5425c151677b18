import json
import os

import pytest

pytestmark = pytest.mark.sandbox

_FORBIDDEN_PREFIXES = ("ROS_", "RMW_", "AMENT_", "FASTRTPS_", "FASTDDS_", "CYCLONEDDS_", "JPY_")


def test_environment_has_no_secret_and_no_ros_variables(kernel, secret):
    assert os.environ["ROS_DOMAIN_ID"]
    result = kernel.execute("import json, os\nprint(json.dumps(dict(os.environ)))")
    env = json.loads(result.stdout)
    assert secret not in result.stdout
    assert [key for key in env if key.startswith(_FORBIDDEN_PREFIXES) or "KEY" in key] == []
    assert [
        value for value in env.values() if "ros_" in value or "/opt/ros" in value or ".venv" in value
    ] == []


def test_node_environ_is_unreadable_through_proc(kernel, secret, everything):
    code = f"""
import os
for pid in ({os.getpid()}, {os.getppid()}, 1, 2):
    try:
        print(pid, open(f'/proc/{{pid}}/environ').read())
    except OSError as exc:
        print(pid, type(exc).__name__)
"""
    result = kernel.execute(code)
    assert result.status == "ok"
    assert secret not in everything(result)


def test_process_list_shows_only_the_sandbox(kernel):
    result = kernel.execute("import os\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))")
    assert max(json.loads(result.stdout)) < 100
