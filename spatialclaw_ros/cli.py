"""The ``spatialclaw`` command: run the node, ask it a question, or run the simulated demo.

``spatialclaw agent [--params-file FILE] [--namespace NS] [-- ROS_ARGS...]`` runs ``spatial_agent``.

``spatialclaw ask "QUESTION" [--cameras A B] [--window-s S] [--answer-type T] [--choices X Y] [--code CELL]``
asks the running node through its ``~/ask`` action and prints the feedback, then the answer.

``spatialclaw demo [--seed N] [--cameras K] [--noise]`` asks a simulated camera rig questions with known
answers and prints each answer beside the truth.

This module only parses the command line: each command's code is imported when that command runs, so
ROS is imported by the commands that talk to ROS alone (``spatialclaw --help`` needs no ROS install).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence
from pathlib import Path

# command → "module:function" taking the parsed arguments and returning the exit status.
COMMANDS = {
    "agent": "spatialclaw_ros.ros.commands:run_agent",
    "ask": "spatialclaw_ros.ros.commands:ask",
    "demo": "spatialclaw_ros.ros.commands:demo",
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``spatialclaw``."""
    parser = argparse.ArgumentParser(prog="spatialclaw", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    agent = commands.add_parser("agent", help="run the spatial_agent node")
    agent.add_argument("--params-file", type=Path, default=None, help="parameter YAML (default: agent.yaml)")
    agent.add_argument("--namespace", default="/spatialclaw", help="node namespace (default: /spatialclaw)")
    agent.add_argument("ros_args", nargs=argparse.REMAINDER, help="extra arguments after --ros-args")

    ask = commands.add_parser("ask", help="ask the running agent a question")
    ask.add_argument("question")
    ask.add_argument("--agent", default="/spatialclaw/spatial_agent", help="the agent node's full name")
    ask.add_argument("--cameras", nargs="*", default=[], help="camera names (default: all)")
    ask.add_argument("--window-s", type=float, default=0.0, help="time window, s (0: latest frames)")
    ask.add_argument("--max-frames", type=int, default=0, help="most frames (0: node default)")
    ask.add_argument("--target-frame", default="", help="frame of the answer's poses")
    ask.add_argument("--answer-type", default="", choices=["", "text", "number", "choice", "boolean"])
    ask.add_argument("--choices", nargs="*", default=[], help="allowed answers for --answer-type choice")
    ask.add_argument("--code", default="", help="run this cell instead of asking the model")
    ask.add_argument("--timeout-s", type=float, default=0.0, help="time budget, s (0: node default)")
    ask.add_argument("--json", action="store_true", help="print the whole answer as JSON")

    demo = commands.add_parser("demo", help="run the simulated demo and print answers beside the truth")
    demo.add_argument("--seed", type=int, default=0, help="scene seed (default: 0)")
    demo.add_argument("--cameras", type=int, default=4, help="number of cameras, 1 to 8 (default: 4)")
    demo.add_argument("--noise", action="store_true", help="simulate depth sensor noise")
    demo.add_argument("--params-file", type=Path, default=None, help="parameter YAML (default: demo.yaml)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spatialclaw`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    module, function = COMMANDS[args.command].split(":")
    return getattr(importlib.import_module(module), function)(args)
