"""The node, started in its own process, answers NO_DATA through the service and the action."""

from __future__ import annotations

import pytest
from rclpy.action import ActionClient
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from spatialclaw_ros.action import SpatialQuery as SpatialQueryAction
from spatialclaw_ros.msg import SpatialAnswer
from spatialclaw_ros.ros.client import SpatialClawClient
from spatialclaw_ros.srv import SpatialQuery as SpatialQueryService

from support.ros_processes import installed_executable, ros_args, running
from support.ros_spin import spinning_node, wait_for_future, wait_until

pytestmark = pytest.mark.ros

NAMESPACE = "/spatialclaw"
CAMERAS = ["front", "left"]


@pytest.fixture(scope="module")
def agent_node():
    command = [
        installed_executable("spatial_agent"),
        *ros_args(namespace=NAMESPACE, parameters={"cameras": CAMERAS}),
    ]
    with running(command, name="spatial_agent") as process:
        yield process
    assert process.returncode == 0, "SIGINT must shut the node down cleanly\n" + process.output[-4000:]
    # The shutdown transition ran while ROS was still up, and it closed the VLM client.
    assert "Unable to start transition" not in process.output, process.output[-2000:]
    assert "Unclosed client session" not in process.output, process.output[-2000:]


@pytest.fixture(scope="module")
def client_node(agent_node):
    with spinning_node("no_data_client") as node:
        planner = SpatialClawClient(
            f"{NAMESPACE}/spatial_agent", node_name="no_data_planner", context=node.context
        )
        try:
            planner.wait_until_ready(timeout_s=60.0)
        finally:
            planner.destroy()
        yield node


def test_service_answers_no_data_naming_the_topics(client_node):
    client = client_node.create_client(SpatialQueryService, f"{NAMESPACE}/spatial_agent/query")
    assert client.wait_for_service(timeout_sec=30.0), "~/query never appeared"
    request = SpatialQueryService.Request(question="how far is the chair from the door?")
    answer = wait_for_future(client.call_async(request), timeout_s=10.0).result
    assert answer.error_code == SpatialAnswer.NO_DATA
    for camera in CAMERAS:
        assert f"{NAMESPACE}/{camera}/image_raw (never)" in answer.error_message
        assert f"{NAMESPACE}/{camera}/depth/image_raw (never)" in answer.error_message, "depth is auto"
    assert answer.question == request.question
    assert answer.query_id


def test_service_rejects_an_invalid_query(client_node):
    client = client_node.create_client(SpatialQueryService, f"{NAMESPACE}/spatial_agent/query")
    assert client.wait_for_service(timeout_sec=30.0)
    request = SpatialQueryService.Request(question="which?", answer_type="choice")
    answer = wait_for_future(client.call_async(request), timeout_s=10.0).result
    assert answer.error_code == SpatialAnswer.INVALID_QUERY
    assert "choices" in answer.error_message


def test_action_answers_no_data_with_feedback(client_node):
    client = ActionClient(client_node, SpatialQueryAction, f"{NAMESPACE}/spatial_agent/ask")
    assert client.wait_for_server(timeout_sec=30.0), "~/ask never appeared"
    feedback = []
    goal = SpatialQueryAction.Goal(question="which way did the person walk?", cameras=["left"], window_s=20.0)
    handle = wait_for_future(
        client.send_goal_async(goal, feedback_callback=lambda message: feedback.append(message.feedback)),
        timeout_s=10.0,
    )
    assert handle.accepted
    result = wait_for_future(handle.get_result_async(), timeout_s=10.0).result.result
    assert result.error_code == SpatialAnswer.NO_DATA
    assert f"{NAMESPACE}/left/image_raw" in result.error_message
    assert f"{NAMESPACE}/front/image_raw" not in result.error_message
    assert feedback and feedback[-1].stage == "done"


def test_answers_topic_keeps_the_last_answer_for_late_joiners(client_node):
    client = client_node.create_client(SpatialQueryService, f"{NAMESPACE}/spatial_agent/query")
    assert client.wait_for_service(timeout_sec=30.0)
    request = SpatialQueryService.Request(question="is the door open?", answer_type="boolean")
    sent = wait_for_future(client.call_async(request), timeout_s=10.0).result
    received = []
    qos = QoSProfile(
        depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
    )
    client_node.create_subscription(SpatialAnswer, f"{NAMESPACE}/spatial_agent/answers", received.append, qos)
    wait_until(lambda: any(a.query_id == sent.query_id for a in received), 10.0, "the latched answer")
