"""The ``spatialclaw`` command line: run the node, or ask it a question, from a shell.

``spatialclaw agent [--params-file FILE] [--namespace NS] [-- ROS_ARGS...]`` runs ``spatial_agent`` with
the package's config/agent.yaml (or FILE) in namespace ``/spatialclaw`` (launch's default).

``spatialclaw ask "QUESTION" [--cameras A B] [--window-s S] [--answer-type T] [--choices X Y] [--code CELL]``
sends the question through the ``~/ask`` action, prints the feedback and then the answer; the exit status
is 0 when the answer carries no error. Ctrl-C cancels the query.

``spatialclaw demo [--seed N] [--cameras K] [--noise]`` starts a simulated camera rig and the agent, asks
them questions with known answers (through ``code`` programs, and through the VLM when it answers) and
prints each answer beside the truth (see ``spatialclaw_ros.ros.demo``).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

import rclpy
from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
from rclpy.signals import SignalHandlerOptions

from spatialclaw_ros.msg import SpatialAnswer
from spatialclaw_ros.ros import agent_node
from spatialclaw_ros.ros.client import QueryOptions, SpatialClawClient


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


def agent_ros_args(args: argparse.Namespace) -> list[str]:
    """The ``--ros-args`` the node is started with."""
    params_file = args.params_file or default_params_file()
    if not params_file.is_file():
        raise SystemExit(f"spatialclaw: parameter file {params_file} does not exist")
    extra = [arg for arg in args.ros_args if arg not in ("--", "--ros-args")]
    return ["--ros-args", "-r", f"__ns:={args.namespace}", "--params-file", str(params_file), *extra]


def ask(args: argparse.Namespace) -> int:
    """Send one question through the action and print what comes back."""
    options = QueryOptions(
        cameras=args.cameras,
        window_s=args.window_s,
        max_frames=args.max_frames,
        target_frame=args.target_frame,
        answer_type=args.answer_type,
        choices=args.choices,
        code=args.code,
        timeout_s=args.timeout_s,
    )
    # Ctrl-C must reach the loop below (to cancel the goal), not shut the context down first.
    rclpy.init(signal_handler_options=SignalHandlerOptions.NO)
    client = SpatialClawClient(agent=args.agent)
    try:
        client.wait_until_ready(timeout_s=30.0)
        if not client.ask(args.question, options, feedback_callback=_print_feedback):
            print("spatialclaw: the agent rejected the question (too many queries running?)")
            return 2
        try:
            while not client.is_query_complete():
                time.sleep(0.05)
        except KeyboardInterrupt:
            client.cancel()
        answer = client.get_result(wait_s=30.0)
    finally:
        client.destroy()
        rclpy.try_shutdown()
    if answer is None:
        print("spatialclaw: no result")
        return 1
    _print_answer(answer, as_json=args.json)
    return 0 if answer.error_code == SpatialAnswer.NONE else 1


def message_to_dict(message):
    """A ROS message as plain dicts, lists and numbers (rosidl_runtime_py is not on PyPI)."""
    if hasattr(message, "get_fields_and_field_types"):
        return {
            name: message_to_dict(getattr(message, name)) for name in message.get_fields_and_field_types()
        }
    if isinstance(message, (list, tuple)) or type(message).__name__ == "ndarray":
        return [message_to_dict(item) for item in message]
    return message


def _print_feedback(feedback) -> None:
    step = f" {feedback.step}/{feedback.max_steps}" if feedback.max_steps else ""
    print(f"[{feedback.elapsed_s:6.1f} s] {feedback.stage}{step} {feedback.summary}".rstrip(), flush=True)


def _print_answer(answer: SpatialAnswer, as_json: bool) -> None:
    if as_json:
        print(json.dumps(message_to_dict(answer), indent=2))
        return
    if answer.error_code != SpatialAnswer.NONE:
        print(f"error {answer.error_code}: {answer.error_message}")
    else:
        print(f"answer: {answer.answer}")
    for measurement in answer.measurements:
        print(f"  {measurement.name}: {measurement.value:.3f} {measurement.unit}")
    for item in answer.objects:
        p = item.pose.position
        print(f"  {item.label} at ({p.x:.2f}, {p.y:.2f}, {p.z:.2f}) in {answer.header.frame_id}")
    if answer.trace_uri:
        print(f"trace: {answer.trace_uri}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spatialclaw`` console script."""
    args = build_parser().parse_args(argv)
    if args.command == "ask":
        return ask(args)
    if args.command == "demo":
        # Imported here: the demo pulls in the simulator, which plain `agent`/`ask` runs do not need.
        from spatialclaw_ros.ros import demo

        return demo.main(seed=args.seed, cameras=args.cameras, noise=args.noise, params_file=args.params_file)
    return agent_node.main(["spatialclaw", *agent_ros_args(args)])
