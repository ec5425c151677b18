"""``SpatialClawClient``: what a planner uses to ask the spatial agent, without touching action internals.

In the manner of nav2's BasicNavigator::

    client = SpatialClawClient()                      # rclpy.init() first
    answer = client.query("how far is the red chair from the door?", answer_type="number")
    client.ask("which way did the person walk?", window_s=20.0, feedback_callback=print)
    while not client.is_query_complete():
        time.sleep(0.1)
    answer = client.get_result()
    client.destroy()

The client owns a node that a background thread spins, so every call may block the caller's thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import rclpy
from action_msgs.msg import GoalStatus
from lifecycle_msgs.msg import State, TransitionEvent
from lifecycle_msgs.srv import GetState
from rclpy.action import ActionClient
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.task import Future

from spatialclaw_ros.action import SpatialQuery as SpatialQueryAction
from spatialclaw_ros.msg import SpatialAnswer
from spatialclaw_ros.srv import SpatialQuery as SpatialQueryService

#: Seconds between two lifecycle state requests while waiting for the agent to become active.
_STATE_RECHECK_S = 1.0

FeedbackCallback = Callable[[SpatialQueryAction.Feedback], None]


class AgentUnavailableError(RuntimeError):
    """The agent's service or action server did not answer in time."""


@dataclass(frozen=True)
class QueryOptions:
    """The optional fields of a question (see srv/SpatialQuery.srv for their meaning)."""

    cameras: Sequence[str] = ()
    window_s: float = 0.0
    max_frames: int = 0
    target_frame: str = ""
    answer_type: str = ""
    choices: Sequence[str] = ()
    code: str = ""
    timeout_s: float = 0.0

    def fill(self, question: str, request):
        """Copy the question and these options into a service request or action goal."""
        request.question = question
        request.cameras = list(self.cameras)
        request.window_s = float(self.window_s)
        request.max_frames = int(self.max_frames)
        request.target_frame = self.target_frame
        request.answer_type = self.answer_type
        request.choices = list(self.choices)
        request.code = self.code
        request.timeout_s = float(self.timeout_s)
        return request


class SpatialClawClient:
    """Ask the ``spatial_agent`` node questions through its service and its action."""

    def __init__(
        self,
        agent: str = "/spatialclaw/spatial_agent",
        node_name: str = "spatialclaw_client",
        context: Context | None = None,
    ) -> None:
        self._node = rclpy.create_node(node_name, context=context)
        self._query_client = self._node.create_client(SpatialQueryService, f"{agent}/query")
        self._state_client = self._node.create_client(GetState, f"{agent}/get_state")
        self._active = threading.Event()
        self._node.create_subscription(TransitionEvent, f"{agent}/transition_event", self._on_transition, 10)
        self._action_name = f"{agent}/ask"
        self._ask_client = ActionClient(self._node, SpatialQueryAction, self._action_name)
        self._executor = SingleThreadedExecutor(context=context)
        self._executor.add_node(self._node)
        self._spinner = threading.Thread(target=self._executor.spin, name=f"{node_name}_spin", daemon=True)
        self._spinner.start()
        self._goal_handle = None
        self._result_future: Future | None = None
        self._feedback: SpatialQueryAction.Feedback | None = None

    def wait_until_ready(self, timeout_s: float = 30.0) -> None:
        """Block until the agent is active and its service and action server are reachable.

        Active is the lifecycle state in which queries are answered (before it they answer
        NOT_READY). The wait follows the node's transition events, and asks its state every second.

        Raises:
            AgentUnavailableError: naming what did not happen within ``timeout_s`` seconds.
        """
        deadline = time.monotonic() + timeout_s

        def left() -> float:
            return max(0.0, deadline - time.monotonic())

        if not self._query_client.wait_for_service(timeout_sec=left()):
            raise AgentUnavailableError(
                f"service {self._query_client.srv_name} did not appear in {timeout_s} s"
            )
        if not self._ask_client.wait_for_server(timeout_sec=left()):
            raise AgentUnavailableError(f"action server {self._action_name} did not appear")
        if not self._state_client.wait_for_service(timeout_sec=left()):
            raise AgentUnavailableError(f"service {self._state_client.srv_name} did not appear")
        label = "unknown"
        while True:
            # The state is asked again now and then: a transition event sent before this client's
            # subscription was matched never arrives.
            self._active.clear()
            try:
                reply = _wait(self._state_client.call_async(GetState.Request()), left(), "lifecycle state")
            except TimeoutError:
                break
            label = reply.current_state.label
            if reply.current_state.id == State.PRIMARY_STATE_ACTIVE or self._active.wait(
                min(_STATE_RECHECK_S, left())
            ):
                return
            if left() <= 0.0:
                break
        raise AgentUnavailableError(
            f"the agent did not become active within {timeout_s} s (its state was {label!r})"
        )

    def _on_transition(self, event: TransitionEvent) -> None:
        if event.goal_state.id == State.PRIMARY_STATE_ACTIVE:
            self._active.set()

    def query(
        self, question: str, options: QueryOptions | None = None, wait_s: float = 600.0, **fields
    ) -> SpatialAnswer:
        """Ask through ``~/query`` and block until the answer (check its ``error_code``).

        ``fields`` are the :class:`QueryOptions` fields, for short calls. Raises AgentUnavailableError when
        the service does not answer within ``wait_s`` seconds.
        """
        request = _options(options, fields).fill(question, SpatialQueryService.Request())
        if not self._query_client.wait_for_service(timeout_sec=min(wait_s, 10.0)):
            raise AgentUnavailableError(f"service {self._query_client.srv_name} is not available")
        try:
            response = _wait(self._query_client.call_async(request), wait_s, "the query's answer")
        except TimeoutError as error:
            raise AgentUnavailableError(str(error)) from None
        return response.result

    def ask(
        self,
        question: str,
        options: QueryOptions | None = None,
        feedback_callback: FeedbackCallback | None = None,
        wait_s: float = 10.0,
        **fields,
    ) -> bool:
        """Send the question as an ``~/ask`` goal; returns whether the agent accepted it.

        Follow it with :meth:`is_query_complete`, :meth:`get_feedback`, :meth:`cancel`, :meth:`get_result`.
        """
        goal = _options(options, fields).fill(question, SpatialQueryAction.Goal())
        if not self._ask_client.wait_for_server(timeout_sec=wait_s):
            raise AgentUnavailableError(f"action server {self._action_name} is not available")
        self._feedback = None

        def on_feedback(message) -> None:
            self._feedback = message.feedback
            if feedback_callback is not None:
                feedback_callback(message.feedback)

        handle = _wait(
            self._ask_client.send_goal_async(goal, feedback_callback=on_feedback), wait_s, "goal reply"
        )
        if not handle.accepted:
            self._goal_handle, self._result_future = None, None
            return False
        self._goal_handle = handle
        self._result_future = handle.get_result_async()
        return True

    def is_query_complete(self) -> bool:
        """Whether the last :meth:`ask` has ended (answered, canceled, failed or rejected)."""
        return self._result_future is None or self._result_future.done()

    def get_feedback(self) -> SpatialQueryAction.Feedback | None:
        """The latest feedback of the last :meth:`ask`, if any arrived."""
        return self._feedback

    def cancel(self, wait_s: float = 10.0) -> None:
        """Ask the agent to cancel the last :meth:`ask`; its result then carries CANCELED."""
        if self._goal_handle is not None and not self.is_query_complete():
            _wait(self._goal_handle.cancel_goal_async(), wait_s, "the cancel reply")

    def get_result(self, wait_s: float = 0.0) -> SpatialAnswer | None:
        """The answer of the last :meth:`ask`; waits up to ``wait_s`` seconds, None if not done."""
        if self._result_future is None:
            return None
        if not self._result_future.done() and wait_s > 0.0:
            try:
                _wait(self._result_future, wait_s, "the result")
            except TimeoutError:
                return None
        if not self._result_future.done():
            return None
        response = self._result_future.result()
        if response.status == GoalStatus.STATUS_ABORTED and not response.result.result.error_message:
            response.result.result.error_code = SpatialAnswer.AGENT_FAILED
            response.result.result.error_message = "the agent aborted the goal"
        return response.result.result

    def destroy(self) -> None:
        """Stop spinning and destroy the client's node."""
        self._executor.shutdown()
        self._spinner.join(timeout=5.0)
        self._ask_client.destroy()
        self._node.destroy_node()


def _options(options: QueryOptions | None, fields: dict) -> QueryOptions:
    if options is not None and fields:
        raise TypeError("give either options or keyword fields, not both")
    return options if options is not None else QueryOptions(**fields)


def _wait(future: Future, timeout_s: float, what: str):
    done = threading.Event()
    future.add_done_callback(lambda _future: done.set())
    if not done.wait(timeout_s):
        raise TimeoutError(f"no {what} within {timeout_s} s")
    return future.result()
