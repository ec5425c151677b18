"""The `spatialclaw` command parses and answers --help without ROS; each command names a real function."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from spatialclaw_ros.cli import COMMANDS, build_parser

BLOCK_ROS = textwrap.dedent(
    """
    import importlib.abc, sys

    class NoROS(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("rclpy", "rcl_interfaces", "std_msgs", "sensor_msgs"):
                raise ImportError(f"{name} is blocked")

    sys.meta_path.insert(0, NoROS())
    from spatialclaw_ros.cli import main
    main(sys.argv[1:])
    """
)


@pytest.mark.parametrize("argv", [["--help"], ["ask", "--help"], ["demo", "--help"]])
def test_help_needs_no_ros(argv):
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_ROS, *argv], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "usage: spatialclaw" in done.stdout


def test_a_ros_command_without_ros_fails_on_the_blocked_import_not_before():
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_ROS, "ask", "how far?"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0 and "is blocked" in done.stderr


def test_every_command_is_parsed_and_names_a_function():
    parser = build_parser()
    assert parser.parse_args(["ask", "q", "--cameras", "a", "b", "--timeout-s", "3"]).cameras == ["a", "b"]
    assert parser.parse_args(["demo", "--seed", "4"]).seed == 4
    assert parser.parse_args(["agent", "--", "-p", "x:=1"]).ros_args == ["--", "-p", "x:=1"]
    for command, target in COMMANDS.items():
        module, function = target.split(":")
        spec = importlib.util.find_spec(module)
        assert spec is not None, command
        assert f"def {function}(" in Path(spec.origin).read_text(), command
