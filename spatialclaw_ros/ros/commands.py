"""The ROS side of the ``spatialclaw`` command (see :mod:`spatialclaw_ros.cli`): run the node, ask it, demo.

``agent`` runs ``spatial_agent`` with the package's config/agent.yaml (or ``--params-file``) in namespace
``/spatialclaw`` (launch's default). ``ask`` sends the question through the ``~/ask`` action, prints the
feedback and then the answer; the exit status is 0 when the answer carries no error, and Ctrl-C cancels
the query. ``demo`` starts a simulated camera rig and the agent, asks them questions with known answers
and prints each answer beside the truth (see :mod:`spatialclaw_ros.ros.demo`).
"""

from __future__ import annotations

import argparse
import json
import time
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


def run_agent(args: argparse.Namespace) -> int:
    """``spatialclaw agent``: run the node until SIGINT or SIGTERM."""
    return agent_node.main(["spatialclaw", *agent_ros_args(args)])


def demo(args: argparse.Namespace) -> int:
    """``spatialclaw demo``: the simulated rig, the agent, and answers beside the truth."""
    # Imported here: the demo pulls in the simulator, which plain `agent`/`ask` runs do not need.
    from spatialclaw_ros.ros import demo as simulated_demo

    return simulated_demo.main(
        seed=args.seed, cameras=args.cameras, noise=args.noise, params_file=args.params_file
    )
