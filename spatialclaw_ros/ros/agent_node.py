"""The ``spatial_agent`` lifecycle node: serves ``~/query`` and ``~/ask`` over the buffered camera frames.

Transitions:
    configure: reads the parameters, creates the frame buffer, the publishers, the ``~/query`` service
        and the ``~/ask`` action server.
    activate: subscribes to the cameras (ingest runs in its own callback group).
    deactivate: unsubscribes; buffered frames are kept and queries still answer from them.
    cleanup: releases everything configure created.

With ``autostart`` (the default) the node configures and activates itself at start-up.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Sequence

import rclpy
from rcl_interfaces.msg import SetParametersResult
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions

from spatialclaw_ros.action import SpatialQuery as SpatialQueryAction
from spatialclaw_ros.frames import FrameBuffer
from spatialclaw_ros.msg import SpatialAnswer
from spatialclaw_ros.ros.answers import error_answer, new_query_id, request_problem
from spatialclaw_ros.ros.ingest import CameraIngest, declare_ingest_parameters
from spatialclaw_ros.ros.parameters import (
    PARAMETERS,
    AgentParameters,
    declare_parameters,
    read_parameters,
    validate_parameters,
)
from spatialclaw_ros.srv import SpatialQuery as SpatialQueryService

NODE_NAME = "spatial_agent"

# Late joiners (rviz, a planner starting after the answer) still get the last answer.
ANSWERS_QOS = QoSProfile(
    depth=1,
    history=HistoryPolicy.KEEP_LAST,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)


class SpatialAgentNode(LifecycleNode):
    """Answers spatial questions about what the robot's cameras saw."""

    def __init__(self, **kwargs) -> None:
        super().__init__(NODE_NAME, **kwargs)
        declare_parameters(self)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self._params: AgentParameters | None = None
        self._buffer: FrameBuffer | None = None
        self._ingest: CameraIngest | None = None
        self._ingest_group = MutuallyExclusiveCallbackGroup()
        self._query_group = ReentrantCallbackGroup()
        self._query_service = None
        self._action_server: ActionServer | None = None
        self._answers_publisher = None
        self._running_lock = threading.Lock()
        self._running_queries = 0

    @property
    def autostart(self) -> bool:
        """Whether the node configures and activates itself at start-up."""
        return bool(self.get_parameter("autostart").value)

    # Lifecycle transitions -------------------------------------------------------------------------

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Read parameters; create the buffer, publishers, service and action server."""
        try:
            self._params = read_parameters(self)
        except ValueError as error:
            self.get_logger().error(f"configure failed: {error}")
            return TransitionCallbackReturn.FAILURE
        params = self._params
        declare_ingest_parameters(self, params.cameras)
        self._buffer = FrameBuffer(
            keyframe_hz=params.keyframe_hz,
            history_s=params.history_s,
            max_memory_mb=params.max_memory_mb,
        )
        self._ingest = CameraIngest(self, self._buffer, params.cameras, self._ingest_group)
        self._answers_publisher = self.create_publisher(SpatialAnswer, "~/answers", ANSWERS_QOS)
        self._query_service = self.create_service(
            SpatialQueryService, "~/query", self._on_query, callback_group=self._query_group
        )
        self._action_server = ActionServer(
            self,
            SpatialQueryAction,
            "~/ask",
            execute_callback=self._on_ask,
            goal_callback=self._on_goal,
            cancel_callback=lambda _goal: CancelResponse.ACCEPT,
            callback_group=self._query_group,
        )
        self.get_logger().info(f"configured: cameras {list(params.cameras)}")
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Subscribe to the cameras."""
        assert self._ingest is not None
        self._ingest.start()
        self.get_logger().info(f"active: waiting for {', '.join(self._ingest.waiting_topics())}")
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Unsubscribe from the cameras; buffered frames stay."""
        if self._ingest is not None:
            self._ingest.stop()
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release everything configure created."""
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release everything, whatever the state."""
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def _release(self) -> None:
        if self._ingest is not None:
            self._ingest.stop()
            self._ingest = None
        if self._action_server is not None:
            self._action_server.destroy()
            self._action_server = None
        if self._query_service is not None:
            self.destroy_service(self._query_service)
            self._query_service = None
        if self._answers_publisher is not None:
            self.destroy_publisher(self._answers_publisher)
            self._answers_publisher = None
        self._buffer = None
        self._params = None

    # Parameters ------------------------------------------------------------------------------------

    def _on_set_parameters(self, parameters: Sequence[rclpy.Parameter]) -> SetParametersResult:
        known = {spec.name for spec in PARAMETERS}
        problem = validate_parameters({p.name: p.value for p in parameters if p.name in known})
        return SetParametersResult(successful=problem is None, reason=problem or "")

    # Queries ---------------------------------------------------------------------------------------

    def _on_query(self, request, response):
        response.result = self._answer(request)
        return response

    def _on_goal(self, goal_request) -> GoalResponse:
        limit = self._params.max_concurrent_queries if self._params else 1
        if self._running_queries >= limit:
            self.get_logger().warning(f"goal rejected: {self._running_queries} queries already running")
            return GoalResponse.REJECT
        return GoalResponse.ACCEPT

    def _on_ask(self, goal_handle):
        started = time.monotonic()
        feedback = SpatialQueryAction.Feedback(stage="snapshot", step=0, elapsed_s=0.0)
        if self._params is not None:
            feedback.max_steps = self._params.max_steps
        goal_handle.publish_feedback(feedback)
        answer = self._answer(goal_handle.request)
        feedback.stage = "done"
        feedback.summary = answer.error_message or answer.answer
        feedback.elapsed_s = time.monotonic() - started
        goal_handle.publish_feedback(feedback)
        goal_handle.succeed()
        return SpatialQueryAction.Result(result=answer)

    def _answer(self, request) -> SpatialAnswer:
        """Answer one request; every outcome, error or not, is also published on ``~/answers``."""
        started = time.monotonic()
        query_id = new_query_id()
        with self._running_lock:
            self._running_queries += 1
        try:
            code, message = self._check_request(request)
            answer = error_answer(
                request,
                query_id=query_id,
                error_code=code,
                error_message=message,
                frame_id=request.target_frame or (self._params.target_frame if self._params else ""),
                elapsed_s=time.monotonic() - started,
                clock=self.get_clock(),
            )
        finally:
            with self._running_lock:
                self._running_queries -= 1
        if self._answers_publisher is not None:
            self._answers_publisher.publish(answer)
        if answer.error_code != SpatialAnswer.NONE:
            self.get_logger().warning(f"query {query_id}: {answer.error_message}")
        return answer

    def _check_request(self, request) -> tuple[int, str]:
        """The error an answer must carry for this request, given the node's state."""
        problem = request_problem(request)
        if problem is not None:
            return SpatialAnswer.INVALID_QUERY, problem
        if self._params is None or self._buffer is None or self._ingest is None:
            return SpatialAnswer.NO_DATA, "the node is not configured: no cameras are subscribed"
        unknown = [name for name in request.cameras if name not in self._params.cameras]
        if unknown:
            return (
                SpatialAnswer.INVALID_QUERY,
                f"unknown cameras {unknown}; this node has {list(self._params.cameras)}",
            )
        cameras = list(request.cameras) or list(self._params.cameras)
        if not self._buffer.cameras_with_frames() & set(cameras):
            waiting = self._ingest.waiting_topics()
            return (
                SpatialAnswer.NO_DATA,
                f"no frames yet from cameras {cameras}; waiting on topics: {', '.join(waiting)}",
            )
        return SpatialAnswer.AGENT_FAILED, "answering from frames is not available in this build"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the node until SIGINT or SIGTERM; returns the process exit status."""
    rclpy.init(args=argv, signal_handler_options=SignalHandlerOptions.ALL)
    node = SpatialAgentNode()
    executor = MultiThreadedExecutor(num_threads=4)
    executor.add_node(node)
    try:
        if node.autostart:
            node.trigger_configure()
            node.trigger_activate()
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0
