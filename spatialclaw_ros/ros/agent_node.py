"""The ``spatial_agent`` lifecycle node: serves ``~/query`` and ``~/ask`` over the buffered camera frames.

``~/query`` and ``~/ask`` exist from start-up so that a planner can always reach the node; until it is
active they answer NOT_READY, naming the lifecycle state (unconfigured, configuring, inactive, ...).
Once active, a query for cameras without frames answers NO_DATA, naming each of their topics and how
long since its last message. ``SpatialClawClient.wait_until_ready`` waits for the active state.

Transitions:
    configure: reads the parameters; creates the frame buffer, the perception link, the warm kernel pool,
        the agent (and checks its VLM endpoint), the publishers and ``/diagnostics``. A missing VLM,
        perception service or sandbox never fails the transition: it is logged, shown on ``/diagnostics``,
        and the queries that need it answer MODEL_UNAVAILABLE, PERCEPTION_UNAVAILABLE or SANDBOX_ERROR.
    activate: subscribes to the cameras (ingest runs in its own callback group).
    deactivate: unsubscribes; buffered frames are kept for the next activation; queries answer NOT_READY.
    cleanup: cancels the running queries and releases everything configure created.

With ``autostart`` (the default) the node configures and activates itself at start-up.

Threads: one single-threaded executor runs every callback (rclpy's multi-threaded executor costs twice as
much CPU per camera frame). Service and action callbacks are coroutines in a reentrant group: each hands
its query to a worker thread and awaits it without holding the executor, so a running query never stalls
ingest, and at most ``max_concurrent_queries`` queries run at once.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseArray
from nav_msgs.msg import Path as PathMessage
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.signals import SignalHandlerOptions
from rclpy.task import Future
from rclpy.timer import Timer
from sensor_msgs.msg import Image, PointCloud2
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from spatialclaw_ros.action import SpatialQuery as SpatialQueryAction
from spatialclaw_ros.agent import Agent, CancelToken, Progress
from spatialclaw_ros.engine import (
    PerceptionLink,
    PerceptionLinkError,
    QueryEngine,
    QuerySlots,
    Request,
    agent_settings,
    llm_settings,
    new_query_id,
    perception_link,
    query_defaults,
    sandbox_settings,
)
from spatialclaw_ros.frames import BufferSource, FrameBuffer, numpy_to_image
from spatialclaw_ros.msg import SpatialAnswer
from spatialclaw_ros.protocol import ErrorCode
from spatialclaw_ros.ros.answers import error_answer
from spatialclaw_ros.ros.diagnostics import NodeHealth, Reachability, diagnostic_array
from spatialclaw_ros.ros.ingest import CameraIngest
from spatialclaw_ros.ros.markers import answer_markers, answer_paths, answer_poses
from spatialclaw_ros.ros.parameters import declare_parameters, read_settings
from spatialclaw_ros.ros.pointcloud import point_cloud
from spatialclaw_ros.ros.qos import LATCHED_QOS
from spatialclaw_ros.ros.queries import QueryResult, QueryRunner, silence_of
from spatialclaw_ros.sandbox import KernelPool, SandboxError
from spatialclaw_ros.settings import NodeSettings
from spatialclaw_ros.srv import SpatialQuery as SpatialQueryService

NODE_NAME = "spatial_agent"
DIAGNOSTICS_PERIOD_S = 1.0
HEALTH_CHECK_PERIOD_S = 5.0
SLOT_WAITERS = 16
SIGNAL_CHECK_PERIOD_S = 0.2

# Late joiners (rviz, a planner starting after the answer) still get the last answer.


@dataclass
class _Session:
    """What configure creates and cleanup releases. A query keeps the session it started in."""

    settings: NodeSettings
    buffer: FrameBuffer
    ingest: CameraIngest
    perception: PerceptionLink | None
    pool: KernelPool | None
    pool_error: str
    agent: Agent
    runner: QueryRunner
    slots: QuerySlots
    workers: ThreadPoolExecutor
    slot_waiters: ThreadPoolExecutor
    health_checks: ThreadPoolExecutor
    outputs: dict[str, object] = field(default_factory=dict)
    diagnostics_timer: Timer | None = None
    tokens: dict[str, CancelToken] = field(default_factory=dict)
    closing: threading.Event = field(default_factory=threading.Event)
    vlm: Reachability = field(default_factory=lambda: Reachability(False, "not checked yet"))
    perception_health: Reachability = field(default_factory=lambda: Reachability(False, "not started"))
    health_pending: bool = False
    last_health_check: float = 0.0


class SpatialAgentNode(LifecycleNode):
    """Answers spatial questions about what the robot's cameras saw."""

    def __init__(self, **kwargs) -> None:
        super().__init__(NODE_NAME, **kwargs)
        declare_parameters(self)
        self._ingest_group = MutuallyExclusiveCallbackGroup()
        self._query_group = ReentrantCallbackGroup()
        self._session: _Session | None = None
        self._lifecycle_state = "unconfigured"
        self.create_service(SpatialQueryService, "~/query", self._on_query, callback_group=self._query_group)
        self._action_server = ActionServer(
            self,
            SpatialQueryAction,
            "~/ask",
            execute_callback=self._on_ask,
            goal_callback=self._on_goal,
            cancel_callback=self._on_cancel,
            callback_group=self._query_group,
        )

    @property
    def lifecycle_state(self) -> str:
        """The lifecycle state as its label: unconfigured, configuring, inactive, activating, active, ..."""
        return self._lifecycle_state

    @property
    def autostart(self) -> bool:
        """Whether the node configures and activates itself at start-up."""
        return bool(self.get_parameter("autostart").value)

    # Lifecycle transitions -------------------------------------------------------------------------

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Read parameters; create buffer, perception link, kernel pool, agent and publishers."""
        self._lifecycle_state = "configuring"
        result = self._configure()
        self._lifecycle_state = "inactive" if result == TransitionCallbackReturn.SUCCESS else "unconfigured"
        return result

    def _configure(self) -> TransitionCallbackReturn:
        try:
            settings = read_settings(self)
            buffer = FrameBuffer(
                keyframe_hz=settings.buffer.keyframe_hz,
                history_s=settings.buffer.history_s,
                max_memory_mb=settings.buffer.max_memory_mb,
                pairing_wait_s=settings.buffer.pairing_wait_s,
            )
            ingest = CameraIngest(self, buffer, settings, self._ingest_group)
        except (ValueError, ParameterException) as error:
            self.get_logger().error(f"configure failed: {error}")
            return TransitionCallbackReturn.FAILURE
        perception, perception_health = self._open_perception(settings)
        pool, pool_error = None, "not started"
        agent = None
        try:
            pool, pool_error = self._start_pool(settings)
            traces = trace_directory(settings.trace.dir)
            upstream = perception.upstream if perception is not None else None
            agent = Agent(llm_settings(settings), agent_settings(settings, traces, upstream))
            session = _Session(
                settings=settings,
                buffer=buffer,
                ingest=ingest,
                perception=perception,
                pool=pool,
                pool_error=pool_error,
                agent=agent,
                runner=QueryRunner(
                    QueryEngine(
                        frames=BufferSource(buffer),
                        pool=pool,
                        pool_error=pool_error,
                        agent=agent,
                        defaults=query_defaults(settings, ingest.depth_required),
                        silence=silence_of(ingest.topic_ages),
                        log=self.get_logger(),
                    ),
                    self.get_clock(),
                ),
                slots=QuerySlots(settings.max_concurrent_queries),
                workers=ThreadPoolExecutor(settings.max_concurrent_queries, thread_name_prefix="query"),
                # Service calls wait for a free query slot here, never in a query worker.
                slot_waiters=ThreadPoolExecutor(SLOT_WAITERS, thread_name_prefix="query_wait"),
                health_checks=ThreadPoolExecutor(1, thread_name_prefix="health"),
                perception_health=perception_health,
            )
            self._check_health(session)
            self._create_outputs(session)
        except Exception as error:  # release what was made: a failed configure must leave nothing running
            self.get_logger().error(f"configure failed: {type(error).__name__}: {error}")
            for resource in (pool, agent, perception):
                if resource is not None:
                    resource.close()
            return TransitionCallbackReturn.FAILURE
        self._session = session
        self.get_logger().info(f"configured: cameras {list(settings.cameras)}")
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Subscribe to the cameras."""
        assert self._session is not None
        self._lifecycle_state = "activating"
        self._session.ingest.start()
        result = super().on_activate(state)
        self._lifecycle_state = "active" if result == TransitionCallbackReturn.SUCCESS else "inactive"
        self.get_logger().info(f"active: waiting for {', '.join(self._session.ingest.waiting_topics())}")
        return result

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Unsubscribe from the cameras; buffered frames stay."""
        self._lifecycle_state = "deactivating"
        if self._session is not None:
            self._session.ingest.stop()
        result = super().on_deactivate(state)
        self._lifecycle_state = "inactive"
        return result

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Cancel the running queries and release everything configure created."""
        self._lifecycle_state = "cleaning up"
        self._release()
        self._lifecycle_state = "unconfigured"
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release everything, whatever the state."""
        self._lifecycle_state = "shutting down"
        self._release()
        self._lifecycle_state = "finalized"
        return TransitionCallbackReturn.SUCCESS

    def _open_perception(self, settings: NodeSettings) -> tuple[PerceptionLink | None, Reachability]:
        try:
            link = perception_link(settings)
        except (PerceptionLinkError, RuntimeError, OSError) as error:
            self.get_logger().error(
                f"perception unavailable, tools.* will answer PERCEPTION_UNAVAILABLE: {error}"
            )
            return None, Reachability(False, str(error))
        reachable, detail = link.health()
        self.get_logger().info(f"perception at {link.where}: {detail}")
        return link, Reachability(reachable, detail)

    def _start_pool(self, settings: NodeSettings) -> tuple[KernelPool | None, str]:
        pool = KernelPool(sandbox_settings(settings), size=settings.kernel.pool_size)
        try:
            pool.start()
        except SandboxError as error:
            self.get_logger().error(f"sandbox unavailable, queries will answer SANDBOX_ERROR: {error}")
            return None, str(error)
        if settings.kernel.sandbox == "off":
            self.get_logger().warning("kernel.sandbox is OFF: model-written code will run unconfined")
        return pool, ""

    def _check_health(self, session: _Session) -> None:
        """Ask the VLM and the perception service whether they answer (blocking, a few seconds at most)."""
        previous = session.vlm
        health = session.agent.check_model(timeout_s=2.0)
        session.vlm = Reachability(health.ok, health.message)
        if session.perception is not None:
            session.perception_health = Reachability(*session.perception.health())
        if health.ok and not previous.reachable:
            self.get_logger().info(f"VLM ready: {health.message}")
        elif not health.ok and (previous.reachable or previous.detail == "not checked yet"):
            self.get_logger().warning(f"VLM unreachable (code queries still work): {health.message}")
        session.health_pending = False

    def _create_outputs(self, session: _Session) -> None:
        publishers = {
            "answers": (SpatialAnswer, "~/answers", LATCHED_QOS),
            "markers": (MarkerArray, "~/markers", 10),
            "objects": (PoseArray, "~/objects", 10),
            "trajectories": (PathMessage, "~/trajectories", 10),
            "debug_image": (Image, "~/debug_image", LATCHED_QOS),
            "diagnostics": (DiagnosticArray, "/diagnostics", 10),
        }
        if session.settings.output.points:
            publishers["points"] = (PointCloud2, "~/points", LATCHED_QOS)
        session.outputs = {
            key: self.create_publisher(msg_type, topic, qos)
            for key, (msg_type, topic, qos) in publishers.items()
        }
        session.diagnostics_timer = self.create_timer(
            DIAGNOSTICS_PERIOD_S,
            lambda: self._publish_diagnostics(session),
            callback_group=self._ingest_group,
        )

    def _release(self) -> None:
        """Cancel running queries, then release the session (runs on the executor thread)."""
        session, self._session = self._session, None
        if session is None:
            return
        session.closing.set()
        session.slots.close()
        for token in list(session.tokens.values()):
            token.cancel()
        session.ingest.stop()
        if session.pool is not None:
            session.pool.close()
        for threads in (session.workers, session.slot_waiters, session.health_checks):
            threads.shutdown(wait=True, cancel_futures=True)
        if session.diagnostics_timer is not None:
            self.destroy_timer(session.diagnostics_timer)
        for publisher in session.outputs.values():
            self.destroy_publisher(publisher)
        session.agent.close()
        if session.perception is not None:
            session.perception.close()

    # Queries ---------------------------------------------------------------------------------------

    async def _on_query(self, request, response):
        """``~/query``: wait for a free slot within the request's time budget, then run the query."""
        started = time.monotonic()
        query_id = new_query_id()
        try:
            response.result = await self._answer_query(request, query_id, started)
        except Exception as error:  # the node must survive anything a request brings
            self.get_logger().error(f"query {query_id}: {type(error).__name__}: {error}")
            response.result = self._error(request, query_id, started, ErrorCode.AGENT_FAILED, str(error))
        return response

    async def _answer_query(self, request, query_id: str, started: float) -> SpatialAnswer:
        session = self._active_session()
        if session is None:
            return self._not_ready(request, query_id, started)
        problem = Request.of(request).problem()
        if problem is not None:
            return self._error(request, query_id, started, ErrorCode.INVALID_QUERY, problem)
        timeout_s = request.timeout_s or session.settings.agent.timeout_s
        if not await self._in_thread(session.slot_waiters, session.slots.acquire, timeout_s):
            if session.closing.is_set():
                return self._error(
                    request, query_id, started, ErrorCode.CANCELED, "the node is shutting down"
                )
            message = f"every query slot stayed busy for {timeout_s:g} s (max_concurrent_queries)"
            return self._error(request, query_id, started, ErrorCode.TIMEOUT, message)
        return await self._run_in_slot(
            session, request, query_id, started, progress=None, cancel=CancelToken()
        )

    def _active_session(self) -> _Session | None:
        """The session while the node is active; None before, while it is inactive, and after."""
        return self._session if self._lifecycle_state == "active" else None

    def _on_goal(self, goal_request) -> GoalResponse:
        """Accept a goal while a query slot is free (not active: accept, and answer NOT_READY)."""
        session = self._active_session()
        if session is not None and session.slots.in_use >= session.slots.limit:
            self.get_logger().warning(
                f"goal rejected: {session.slots.limit} queries already running (max_concurrent_queries)"
            )
            return GoalResponse.REJECT
        return GoalResponse.ACCEPT

    def _on_cancel(self, goal_handle) -> CancelResponse:
        session = self._session
        token = session.tokens.get(_goal_key(goal_handle)) if session is not None else None
        if token is not None:
            token.cancel()
        return CancelResponse.ACCEPT

    async def _on_ask(self, goal_handle):
        """``~/ask``: run the query in a worker, relaying its progress as feedback; cancel interrupts it.

        The goal ends canceled after a cancel, aborted on any other error, and succeeded with an answer.
        """
        started = time.monotonic()
        query_id = new_query_id()
        request = goal_handle.request
        session = self._active_session()
        try:
            if session is None:
                answer = self._not_ready(request, query_id, started)
            elif not session.slots.try_acquire():
                message = f"{session.slots.limit} queries already running (max_concurrent_queries)"
                answer = self._error(request, query_id, started, ErrorCode.AGENT_FAILED, message)
            else:
                token = CancelToken()
                if goal_handle.is_cancel_requested:
                    token.cancel()

                def progress(report: Progress) -> None:
                    feedback = SpatialQueryAction.Feedback(
                        stage=report.stage,
                        step=report.step,
                        max_steps=report.max_steps,
                        summary=report.summary,
                        elapsed_s=time.monotonic() - started,
                    )
                    goal_handle.publish_feedback(feedback)

                answer = await self._run_in_slot(
                    session, request, query_id, started, progress, token, key=_goal_key(goal_handle)
                )
                progress(Progress("done", answer.steps, 0, answer.error_message or answer.answer, 0.0))
        except Exception as error:  # the node must survive anything a goal brings
            self.get_logger().error(f"query {query_id}: {type(error).__name__}: {error}")
            answer = self._error(request, query_id, started, ErrorCode.AGENT_FAILED, str(error))
        if answer.error_code == SpatialAnswer.CANCELED and goal_handle.is_cancel_requested:
            goal_handle.canceled()
        elif answer.error_code != SpatialAnswer.NONE:
            goal_handle.abort()
        else:
            goal_handle.succeed()
        return SpatialQueryAction.Result(result=answer)

    async def _run_in_slot(
        self, session: _Session, request, query_id: str, started: float, progress, cancel: CancelToken, key=""
    ) -> SpatialAnswer:
        """Run the query in a worker thread (its slot already held, released by the worker) and publish it."""
        key = key or query_id
        session.tokens[key] = cancel
        if session.closing.is_set():
            cancel.cancel()

        def work() -> QueryResult:
            try:
                return session.runner.run(
                    request, query_id=query_id, started=started, progress=progress, cancel=cancel
                )
            finally:
                session.slots.release()

        try:
            result: QueryResult = await self._in_thread(session.workers, work)
        except RuntimeError as error:  # the workers were shut down: the node is closing
            session.slots.release()
            return self._error(
                request, query_id, started, ErrorCode.CANCELED, f"the node is closing: {error}"
            )
        finally:
            session.tokens.pop(key, None)
        if not session.closing.is_set():
            try:
                self._publish(session, result)
            except Exception as error:  # a failed output must not lose the answer itself
                self.get_logger().error(f"query {query_id}: publishing the outputs failed: {error}")
        return result.answer

    async def _in_thread(self, threads: ThreadPoolExecutor, function, *args):
        """Run ``function`` in one of ``threads`` and await its result without blocking the executor.

        Raises RuntimeError when ``threads`` is shut down (before or while the call waits to start).
        """
        executor = self.executor
        future: Future = Future(executor=executor)

        def settle(done) -> None:
            if done.cancelled():
                future.set_exception(RuntimeError("the call was canceled before it started"))
            elif done.exception() is not None:
                future.set_exception(done.exception())
            else:
                future.set_result(done.result())
            executor.wake()

        threads.submit(function, *args).add_done_callback(settle)
        return await future

    def _error(self, request, query_id: str, started: float, code: ErrorCode, message: str) -> SpatialAnswer:
        return error_answer(
            request,
            query_id=query_id,
            error_code=code,
            error_message=message,
            elapsed_s=time.monotonic() - started,
            clock=self.get_clock(),
        )

    def _not_ready(self, request, query_id: str, started: float) -> SpatialAnswer:
        state = self._lifecycle_state
        message = f"the node is not active yet: its lifecycle state is {state!r}"
        return self._error(request, query_id, started, ErrorCode.NOT_READY, message)

    # Outputs ---------------------------------------------------------------------------------------

    def _publish(self, session: _Session, result: QueryResult) -> None:
        answer = result.answer
        outputs = session.outputs
        outputs["answers"].publish(answer)
        if answer.error_code != SpatialAnswer.NONE:
            self.get_logger().warning(f"query {answer.query_id}: {answer.error_message}")
            return
        self.get_logger().info(f"query {answer.query_id}: {answer.answer!r} ({answer.steps} steps)")
        # Geometry is placed as it was when measured: a moving robot's rviz must not shift it.
        header = Header(frame_id=answer.header.frame_id, stamp=_measured_stamp(answer))
        outputs["markers"].publish(answer_markers(answer, header))
        outputs["objects"].publish(answer_poses(answer, header))
        for path in answer_paths(answer, header):
            outputs["trajectories"].publish(path)
        if result.points is not None and "points" in outputs:
            outputs["points"].publish(point_cloud(*result.points, header))
        if result.outcome is not None and result.outcome.last_shown_jpeg is not None:
            outputs["debug_image"].publish(jpeg_to_image(result.outcome.last_shown_jpeg, header))

    def _publish_diagnostics(self, session: _Session) -> None:
        now = time.monotonic()
        if not session.health_pending and now - session.last_health_check >= HEALTH_CHECK_PERIOD_S:
            session.health_pending, session.last_health_check = True, now
            session.health_checks.submit(self._check_health, session)
        settings = session.settings
        kernels_detail = session.pool_error if session.pool is None else ""
        health = NodeHealth(
            cameras=session.buffer.stats(),
            expected_cameras=settings.cameras,
            buffer_bytes=session.buffer.total_bytes,
            buffer_cap_bytes=int(settings.buffer.max_memory_mb * 2**20),
            vlm=session.vlm,
            perception=session.perception_health,
            warm_kernels=session.pool.warm_count if session.pool is not None else 0,
            pool_size=settings.kernel.pool_size,
            sandbox_error=kernels_detail,
            queries_running=session.slots.in_use,
            max_queries=settings.max_concurrent_queries,
            lifecycle_state=self._lifecycle_state,
            topic_ages={name: session.ingest.topic_ages([name]) for name in settings.cameras},
            depth_required=session.ingest.depth_required,
            isolation=session.pool.isolation if session.pool is not None else None,
        )
        stamp = self.get_clock().now().to_msg()
        session.outputs["diagnostics"].publish(
            diagnostic_array(health, self.get_fully_qualified_name(), "spatialclaw", stamp)
        )


def _goal_key(goal_handle) -> str:
    return bytes(goal_handle.goal_id.uuid).hex()


def _measured_stamp(answer: SpatialAnswer):
    """The newest source frame's stamp (the moment measured), else the answer's own stamp."""
    if not answer.source_stamps:
        return answer.header.stamp
    return max(answer.source_stamps, key=lambda stamp: (stamp.sec, stamp.nanosec))


def trace_directory(parameter: str) -> Path:
    """The trace directory: the parameter, else ``$ROS_HOME/spatialclaw/traces`` (``~/.ros`` by default)."""
    if parameter:
        return Path(parameter).expanduser()
    ros_home = os.environ.get("ROS_HOME") or str(Path.home() / ".ros")
    return Path(ros_home) / "spatialclaw" / "traces"


def jpeg_to_image(jpeg: bytes, header) -> Image:
    """A ``sensor_msgs/Image`` (rgb8) of JPEG bytes, with ``header``."""
    bgr = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
    fields = numpy_to_image(np.ascontiguousarray(bgr[:, :, ::-1]), "rgb8")
    return Image(header=header, **fields.as_kwargs())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the node until SIGINT or SIGTERM; returns the process exit status.

    The signals stop the executor here, not in rclpy's handler: rclpy's would shut the context down
    first, and the shutdown transition (which closes the kernels, the VLM client and the perception
    service) could then no longer run. The handler only sets a flag (an exception raised at an arbitrary
    point of a callback could leave rclpy's entities half-used); the executor waits at most
    ``SIGNAL_CHECK_PERIOD_S`` at a time, so the flag is seen even while no callback is due.
    """
    rclpy.init(args=argv, signal_handler_options=SignalHandlerOptions.NO)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    node = SpatialAgentNode()
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        if node.autostart:
            node.trigger_configure()
            node.trigger_activate()
        while rclpy.ok() and not stop.is_set():
            executor.spin_once(timeout_sec=SIGNAL_CHECK_PERIOD_S)
    except ExternalShutdownException:
        pass
    finally:
        # A second signal ends the process at once.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            node.trigger_shutdown()
        except Exception as error:  # already finalized, e.g. by `ros2 lifecycle set ... shutdown`
            node.get_logger().debug(f"no shutdown transition: {error}")
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0
