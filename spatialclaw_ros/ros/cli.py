"""The ``spatialclaw`` command line: run the node from a pip environment without ``ros2 launch``.

``spatialclaw agent [--params-file FILE] [--namespace NS] [-- ROS_ARGS...]`` runs ``spatial_agent`` with
the package's config/agent.yaml (or FILE) in namespace ``/spatialclaw`` (launch's default).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from ament_index_python.packages import PackageNotFoundError, get_package_share_directory

from spatialclaw_ros.ros import agent_node


def default_params_file() -> Path:
    """config/agent.yaml from the installed share directory, else from the source tree."""
    try:
        return Path(get_package_share_directory("spatialclaw_ros")) / "config" / "agent.yaml"
    except PackageNotFoundError:
        return Path(__file__).resolve().parents[2] / "config" / "agent.yaml"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``spatialclaw``."""
    parser = argparse.ArgumentParser(prog="spatialclaw", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    agent = commands.add_parser("agent", help="run the spatial_agent node")
    agent.add_argument("--params-file", type=Path, default=None, help="parameter YAML (default: agent.yaml)")
    agent.add_argument("--namespace", default="/spatialclaw", help="node namespace (default: /spatialclaw)")
    agent.add_argument("ros_args", nargs=argparse.REMAINDER, help="extra arguments after --ros-args")
    return parser


def agent_ros_args(args: argparse.Namespace) -> list[str]:
    """The ``--ros-args`` the node is started with."""
    params_file = args.params_file or default_params_file()
    if not params_file.is_file():
        raise SystemExit(f"spatialclaw: parameter file {params_file} does not exist")
    extra = [arg for arg in args.ros_args if arg not in ("--", "--ros-args")]
    return ["--ros-args", "-r", f"__ns:={args.namespace}", "--params-file", str(params_file), *extra]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spatialclaw`` console script."""
    args = build_parser().parse_args(argv)
    return agent_node.main(["spatialclaw", *agent_ros_args(args)])
