"""The managed node's transitions, driven from another process, and what it reports on /diagnostics."""

from __future__ import annotations

import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from lifecycle_msgs.msg import State, Transition
from lifecycle_msgs.srv import ChangeState, GetState

from spatialclaw_ros.msg import SpatialAnswer
from spatialclaw_ros.srv import SpatialQuery as SpatialQueryService

from support.ros_processes import installed_executable, ros_args, running
from support.ros_spin import spinning_node, wait_for_future, wait_until

pytestmark = pytest.mark.ros

NODE = "/lifecycle_test/spatial_agent"


@pytest.fixture(scope="module")
def manual_node():
    parameters = {
        "autostart": False,
        "cameras": ["front"],
        "perception.segmenter": "none",
        "perception.depth": "none",
        "perception.reconstructor": "none",
        "kernel.pool_size": 1,
    }
    command = [
        installed_executable("spatial_agent"),
        *ros_args(namespace="/lifecycle_test", parameters=parameters),
    ]
    with running(command, name="spatial_agent") as process, spinning_node("lifecycle_driver") as node:
        yield node
    assert process.returncode == 0, process.output[-4000:]


def state_of(node) -> int:
    client = node.create_client(GetState, f"{NODE}/get_state")
    assert client.wait_for_service(timeout_sec=30.0)
    return wait_for_future(client.call_async(GetState.Request()), 10.0).current_state.id


def transition(node, transition_id: int) -> bool:
    client = node.create_client(ChangeState, f"{NODE}/change_state")
    assert client.wait_for_service(timeout_sec=30.0)
    request = ChangeState.Request(transition=Transition(id=transition_id))
    return wait_for_future(client.call_async(request), 60.0).success


def ask(node, question: str = "anything?") -> SpatialAnswer:
    client = node.create_client(SpatialQueryService, f"{NODE}/query")
    assert client.wait_for_service(timeout_sec=30.0)
    answer = wait_for_future(client.call_async(SpatialQueryService.Request(question=question)), 10.0).result
    node.destroy_client(client)
    return answer


@pytest.mark.smoke
def test_transitions_subscribe_and_release_while_the_query_service_stays(manual_node):
    node = manual_node
    assert state_of(node) == State.PRIMARY_STATE_UNCONFIGURED
    unconfigured = ask(node)
    assert unconfigured.error_code == SpatialAnswer.NOT_READY
    assert "'unconfigured'" in unconfigured.error_message

    assert transition(node, Transition.TRANSITION_CONFIGURE)
    assert state_of(node) == State.PRIMARY_STATE_INACTIVE
    inactive = ask(node)
    assert inactive.error_code == SpatialAnswer.NOT_READY and "'inactive'" in inactive.error_message

    assert transition(node, Transition.TRANSITION_ACTIVATE)
    assert state_of(node) == State.PRIMARY_STATE_ACTIVE
    wait_until(
        lambda: node.count_subscribers("/lifecycle_test/front/image_raw") == 1, 10.0, "the subscription"
    )
    active = ask(node)
    assert active.error_code == SpatialAnswer.NO_DATA, "active, but no camera has sent anything"
    assert "/lifecycle_test/front/image_raw (never)" in active.error_message
    assert transition(node, Transition.TRANSITION_DEACTIVATE)
    wait_until(lambda: node.count_subscribers("/lifecycle_test/front/image_raw") == 0, 10.0, "unsubscribing")
    assert ask(node).error_code == SpatialAnswer.NOT_READY
    assert transition(node, Transition.TRANSITION_CLEANUP)
    assert state_of(node) == State.PRIMARY_STATE_UNCONFIGURED
    assert "'unconfigured'" in ask(node).error_message


def test_diagnostics_report_cameras_kernels_and_services(manual_node):
    node = manual_node
    assert transition(node, Transition.TRANSITION_CONFIGURE)
    received: list[DiagnosticArray] = []
    node.create_subscription(DiagnosticArray, "/diagnostics", received.append, 10)
    wait_until(lambda: any(s.name.startswith(NODE) for a in received for s in a.status), 15.0, "diagnostics")
    statuses = {s.name: s for a in received for s in a.status if s.name.startswith(NODE)}
    camera = statuses[f"{NODE}: camera front"]
    assert camera.level == DiagnosticStatus.WARN and "no frames" in camera.message
    lifecycle = statuses[f"{NODE}: lifecycle"]
    assert lifecycle.level == DiagnosticStatus.WARN and "inactive" in lifecycle.message
    assert f"{NODE}: frame buffer" in statuses
    assert statuses[f"{NODE}: vlm"].level == DiagnosticStatus.WARN, "no VLM is served in this test"
    assert "of 1 warm" in statuses[f"{NODE}: kernels"].message
    assert statuses[f"{NODE}: queries"].message == "0 of 2 running"
    assert transition(node, Transition.TRANSITION_CLEANUP)
