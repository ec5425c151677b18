"""The ``spatial_agent`` lifecycle node: serves ``~/query`` and ``~/ask`` over the buffered camera frames.

Transitions:
    configure: reads the parameters; creates the frame buffer, the warm kernel pool, the agent (and checks
        its VLM endpoint), the publishers, the ``~/query`` service and the ``~/ask`` action server. A
        missing VLM or sandbox never fails the transition: it is logged, shown on ``/diagnostics``, and
        the queries that need it answer MODEL_UNAVAILABLE or SANDBOX_ERROR.
    activate: subscribes to the cameras (ingest runs in its own callback group).
    deactivate: unsubscribes; buffered frames are kept and queries still answer from them.
    cleanup: releases everything configure created (kernels, agent, workers).

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
from pathlib import Path

import cv2
import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseArray
from nav_msgs.msg import Path as PathMessage
from rcl_interfaces.msg import SetParametersResult
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from rclpy.task import Future
from sensor_msgs.msg import Image, PointCloud2
from visualization_msgs.msg import MarkerArray

from spatialclaw_ros.action import SpatialQuery as SpatialQueryAction
from spatialclaw_ros.agent import Agent, AgentSettings, CancelToken, LLMSettings, Progress
from spatialclaw_ros.frames import FrameBuffer, numpy_to_image
from spatialclaw_ros.msg import SpatialAnswer
from spatialclaw_ros.perception import PerceptionSettings
from spatialclaw_ros.ros.answers import error_answer, new_query_id
from spatialclaw_ros.ros.diagnostics import NodeHealth, Reachability, diagnostic_array
from spatialclaw_ros.ros.ingest import CameraIngest, declare_ingest_parameters
from spatialclaw_ros.ros.markers import answer_markers, answer_paths, answer_poses
from spatialclaw_ros.ros.parameters import (
    PARAMETERS,
    AgentParameters,
    declare_parameters,
    read_parameters,
    validate_parameters,
)
from spatialclaw_ros.ros.perception_link import PerceptionLink, PerceptionLinkError, open_perception
from spatialclaw_ros.ros.pointcloud import point_cloud
from spatialclaw_ros.ros.queries import QueryDefaults, QueryResult, QueryRunner
from spatialclaw_ros.sandbox import KernelPool, SandboxError, SandboxSettings
from spatialclaw_ros.srv import SpatialQuery as SpatialQueryService

NODE_NAME = "spatial_agent"
DIAGNOSTICS_PERIOD_S = 1.0
BACKGROUND_THREADS = 16

# Late joiners (rviz, a planner starting after the answer) still get the last answer.
LATCHED_QOS = QoSProfile(
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
        self._ingest_group = MutuallyExclusiveCallbackGroup()
        self._query_group = ReentrantCallbackGroup()
        self._params: AgentParameters | None = None
        self._buffer: FrameBuffer | None = None
        self._ingest: CameraIngest | None = None
        self._pool: KernelPool | None = None
        self._agent: Agent | None = None
        self._runner: QueryRunner | None = None
        self._workers: ThreadPoolExecutor | None = None
        self._background: ThreadPoolExecutor | None = None
        self._slots: threading.BoundedSemaphore | None = None
        self._running = 0
        self._running_lock = threading.Lock()
        self._cancel_tokens: dict[bytes, CancelToken] = {}
        self._vlm = Reachability(False, "not checked yet")
        self._perception: PerceptionLink | None = None
        self._perception_health = Reachability(False, "not started")
        self._entities: list = []
        self._outputs: dict[str, object] = {}

    @property
    def autostart(self) -> bool:
        """Whether the node configures and activates itself at start-up."""
        return bool(self.get_parameter("autostart").value)

    # Lifecycle transitions -------------------------------------------------------------------------

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Read parameters; create buffer, kernel pool, agent, publishers, service and action server."""
        try:
            params = read_parameters(self)
            declare_ingest_parameters(self, params.cameras)
            buffer = FrameBuffer(
                keyframe_hz=params.keyframe_hz, history_s=params.history_s, max_memory_mb=params.max_memory_mb
            )
            ingest = CameraIngest(self, buffer, params.cameras, self._ingest_group)
        except ValueError as error:
            self.get_logger().error(f"configure failed: {error}")
            return TransitionCallbackReturn.FAILURE
        self._params, self._buffer, self._ingest = params, buffer, ingest
        self._perception = self._open_perception(params)
        pool, pool_error = self._start_pool(params)
        self._pool = pool
        self._agent = Agent(
            LLMSettings(
                base_url=params.llm_base_url, model=params.llm_model, api_key_env=params.llm_api_key_env
            ),
            AgentSettings(
                max_steps=params.max_steps,
                timeout_s=params.timeout_s,
                planning=params.planning,
                trace_dir=trace_directory(params.trace_dir),
                trace_max_mb=params.trace_max_mb,
            ),
        )
        self._check_model()
        self._runner = QueryRunner(
            buffer=buffer,
            pool=pool,
            pool_error=pool_error,
            agent=self._agent,
            defaults=QueryDefaults(
                cameras=params.cameras,
                target_frame=params.target_frame,
                max_frames=params.max_frames,
                timeout_s=params.timeout_s,
                max_steps=params.max_steps,
                sandbox_off=params.sandbox_mode == "off",
                points_stride=params.points_stride if params.publish_points else None,
            ),
            waiting_topics=ingest.waiting_topics,
            clock=self.get_clock(),
            logger=self.get_logger(),
        )
        self._workers = ThreadPoolExecutor(params.max_concurrent_queries, thread_name_prefix="query")
        # Service calls wait for a free query slot here (never in a query worker), and health checks run here.
        self._background = ThreadPoolExecutor(BACKGROUND_THREADS, thread_name_prefix="background")
        self._slots = threading.BoundedSemaphore(params.max_concurrent_queries)
        self._create_interfaces()
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

    def _open_perception(self, params: AgentParameters) -> PerceptionLink | None:
        settings = PerceptionSettings(
            segmenter=params.perception_segmenter,
            depth=params.perception_depth,
            reconstructor=params.perception_reconstructor,
            device=params.perception_device,
            sam3_model=params.sam3_model,
            da3_depth_model=params.da3_depth_model,
            da3_reconstruct_model=params.da3_reconstruct_model,
        )
        try:
            link = open_perception(params.perception_url, settings)
        except (PerceptionLinkError, RuntimeError) as error:
            self._perception_health = Reachability(False, str(error))
            self.get_logger().error(
                f"perception unavailable, tools.* will answer PERCEPTION_UNAVAILABLE: {error}"
            )
            return None
        reachable, detail = link.health()
        self._perception_health = Reachability(reachable, detail)
        self.get_logger().info(f"perception at {link.socket_path}: {detail}")
        return link

    def _start_pool(self, params: AgentParameters) -> tuple[KernelPool | None, str]:
        link = self._perception
        settings = SandboxSettings(
            mode=params.sandbox_mode,
            kernel_python=params.kernel_python,
            binds=(link.bind,) if link is not None else (),
            environment=link.environment if link is not None else (),
        )
        pool = KernelPool(settings, size=params.pool_size)
        try:
            pool.start()
        except SandboxError as error:
            self.get_logger().error(f"sandbox unavailable, queries will answer SANDBOX_ERROR: {error}")
            return None, str(error)
        if params.sandbox_mode == "off":
            self.get_logger().warning("kernel.sandbox is OFF: model-written code will run unconfined")
        return pool, ""

    def _check_model(self) -> None:
        assert self._agent is not None
        health = self._agent.check_model(timeout_s=5.0)
        self._vlm = Reachability(health.ok, health.message)
        if health.ok:
            self.get_logger().info(f"VLM ready: {health.message}")
        else:
            self.get_logger().warning(f"VLM unreachable (code queries still work): {health.message}")

    def _create_interfaces(self) -> None:
        publishers = {
            "answers": (SpatialAnswer, "~/answers", LATCHED_QOS),
            "markers": (MarkerArray, "~/markers", 10),
            "objects": (PoseArray, "~/objects", 10),
            "trajectories": (PathMessage, "~/trajectories", 10),
            "debug_image": (Image, "~/debug_image", LATCHED_QOS),
        }
        if self._params is not None and self._params.publish_points:
            publishers["points"] = (PointCloud2, "~/points", LATCHED_QOS)
        self._outputs = {
            key: self.create_publisher(msg_type, topic, qos)
            for key, (msg_type, topic, qos) in publishers.items()
        }
        self._diagnostics = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._entities = [
            self.create_service(
                SpatialQueryService, "~/query", self._on_query, callback_group=self._query_group
            ),
            ActionServer(
                self,
                SpatialQueryAction,
                "~/ask",
                execute_callback=self._on_ask,
                goal_callback=self._on_goal,
                cancel_callback=self._on_cancel,
                callback_group=self._query_group,
            ),
            self.create_timer(
                DIAGNOSTICS_PERIOD_S, self._publish_diagnostics, callback_group=self._ingest_group
            ),
        ]

    def _release(self) -> None:
        if self._ingest is not None:
            self._ingest.stop()
        for token in list(self._cancel_tokens.values()):
            token.cancel()
        for threads in (self._workers, self._background):
            if threads is not None:
                threads.shutdown(wait=True, cancel_futures=True)
        for entity in self._entities:
            if isinstance(entity, ActionServer):
                entity.destroy()
            elif hasattr(entity, "cancel"):
                self.destroy_timer(entity)
            else:
                self.destroy_service(entity)
        for publisher in [*self._outputs.values(), getattr(self, "_diagnostics", None)]:
            if publisher is not None:
                self.destroy_publisher(publisher)
        if self._pool is not None:
            self._pool.close()
        if self._agent is not None:
            self._agent.close()
        if self._perception is not None:
            self._perception.close()
        self._entities, self._outputs = [], {}
        self._ingest = self._buffer = self._pool = self._agent = self._runner = self._perception = None
        self._workers = self._background = None
        self._params = None

    # Parameters ------------------------------------------------------------------------------------

    def _on_set_parameters(self, parameters: Sequence[rclpy.Parameter]) -> SetParametersResult:
        known = {spec.name for spec in PARAMETERS}
        problem = validate_parameters({p.name: p.value for p in parameters if p.name in known})
        return SetParametersResult(successful=problem is None, reason=problem or "")

    # Queries ---------------------------------------------------------------------------------------

    async def _on_query(self, request, response):
        """``~/query``: wait for a free slot within the request's time budget, then run the query."""
        started = time.monotonic()
        query_id = new_query_id()
        if self._runner is None or self._slots is None or self._params is None:
            response.result = self._not_configured(request, query_id, started)
            return response
        timeout_s = request.timeout_s or self._params.timeout_s
        if not await self._in_thread(self._background, self._slots.acquire, timeout=timeout_s):
            response.result = error_answer(
                request,
                query_id=query_id,
                error_code=SpatialAnswer.TIMEOUT,
                error_message=f"every query slot stayed busy for {timeout_s} s (max_concurrent_queries)",
                frame_id=request.target_frame,
                elapsed_s=time.monotonic() - started,
                clock=self.get_clock(),
            )
            return response
        response.result = await self._run_in_slot(request, query_id, started, progress=None, cancel=None)
        return response

    def _on_goal(self, goal_request) -> GoalResponse:
        """Accept a goal only while a query slot is free; the slot is held until the goal ends."""
        if self._slots is None or not self._slots.acquire(blocking=False):
            limit = self._params.max_concurrent_queries if self._params else 0
            self.get_logger().warning(
                f"goal rejected: {limit} queries already running (max_concurrent_queries)"
            )
            return GoalResponse.REJECT
        return GoalResponse.ACCEPT

    def _on_cancel(self, goal_handle) -> CancelResponse:
        token = self._cancel_tokens.get(bytes(goal_handle.goal_id.uuid))
        if token is not None:
            token.cancel()
        return CancelResponse.ACCEPT

    async def _on_ask(self, goal_handle):
        """``~/ask``: run the query in a worker, relaying its progress as feedback; cancel interrupts it."""
        started = time.monotonic()
        query_id = new_query_id()
        if self._runner is None:
            answer = self._not_configured(goal_handle.request, query_id, started)
            goal_handle.abort()
            return SpatialQueryAction.Result(result=answer)
        goal_id = bytes(goal_handle.goal_id.uuid)
        token = CancelToken()
        self._cancel_tokens[goal_id] = token
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

        try:
            answer = await self._run_in_slot(goal_handle.request, query_id, started, progress, token)
        finally:
            self._cancel_tokens.pop(goal_id, None)
        progress(Progress("done", answer.steps, 0, answer.error_message or answer.answer, 0.0))
        if answer.error_code == SpatialAnswer.CANCELED and goal_handle.is_cancel_requested:
            goal_handle.canceled()
        else:
            goal_handle.succeed()
        return SpatialQueryAction.Result(result=answer)

    async def _run_in_slot(self, request, query_id: str, started: float, progress, cancel) -> SpatialAnswer:
        """Run the query in a worker thread (the slot is already held) and publish its outputs."""
        assert self._runner is not None and self._slots is not None
        with self._running_lock:
            self._running += 1
        try:
            result: QueryResult = await self._in_thread(
                self._workers,
                self._runner.run,
                request,
                query_id=query_id,
                started=started,
                progress=progress,
                cancel=cancel,
            )
        finally:
            with self._running_lock:
                self._running -= 1
            self._slots.release()
        self._publish(result)
        return result.answer

    async def _in_thread(self, threads: ThreadPoolExecutor, function, *args, **kwargs):
        """Run ``function`` in one of ``threads`` and await its result without blocking the executor."""
        executor = self.executor
        future: Future = Future(executor=executor)

        def settle(done) -> None:
            error = done.exception()
            if error is None:
                future.set_result(done.result())
            else:
                future.set_exception(error)
            executor.wake()

        threads.submit(function, *args, **kwargs).add_done_callback(settle)
        return await future

    def _not_configured(self, request, query_id: str, started: float) -> SpatialAnswer:
        return error_answer(
            request,
            query_id=query_id,
            error_code=SpatialAnswer.NO_DATA,
            error_message="the node is not configured: no cameras are subscribed",
            frame_id=request.target_frame,
            elapsed_s=time.monotonic() - started,
            clock=self.get_clock(),
        )

    # Outputs ---------------------------------------------------------------------------------------

    def _publish(self, result: QueryResult) -> None:
        answer = result.answer
        publishers = self._outputs
        if not publishers:
            return
        publishers["answers"].publish(answer)
        if answer.error_code != SpatialAnswer.NONE:
            self.get_logger().warning(f"query {answer.query_id}: {answer.error_message}")
            return
        self.get_logger().info(f"query {answer.query_id}: {answer.answer!r} ({answer.steps} steps)")
        publishers["markers"].publish(answer_markers(answer))
        publishers["objects"].publish(answer_poses(answer))
        for path in answer_paths(answer):
            publishers["trajectories"].publish(path)
        if result.points is not None and "points" in publishers:
            publishers["points"].publish(point_cloud(*result.points, answer.header))
        if result.outcome is not None and result.outcome.last_shown_jpeg is not None:
            publishers["debug_image"].publish(jpeg_to_image(result.outcome.last_shown_jpeg, answer.header))

    def _refresh_perception_health(self, link: PerceptionLink) -> None:
        """Ask the service for its health (in a background thread: it may take up to 2 s)."""
        reachable, detail = link.health()
        self._perception_health = Reachability(reachable, detail)

    def _publish_diagnostics(self) -> None:
        if self._params is None or self._buffer is None:
            return
        if self._perception is not None and self._background is not None:
            self._background.submit(self._refresh_perception_health, self._perception)
        params = self._params
        health = NodeHealth(
            cameras=self._buffer.stats(),
            expected_cameras=params.cameras,
            buffer_bytes=self._buffer.total_bytes,
            buffer_cap_bytes=int(params.max_memory_mb * 2**20),
            vlm=self._vlm,
            perception=self._perception_health,
            warm_kernels=self._pool.warm_count if self._pool is not None else 0,
            pool_size=params.pool_size,
            queries_running=self._running,
            max_queries=params.max_concurrent_queries,
        )
        self._diagnostics.publish(
            diagnostic_array(
                health, self.get_fully_qualified_name(), "spatialclaw", self.get_clock().now().to_msg()
            )
        )


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
    """Run the node until SIGINT or SIGTERM; returns the process exit status."""
    rclpy.init(args=argv, signal_handler_options=SignalHandlerOptions.ALL)
    node = SpatialAgentNode()
    executor = SingleThreadedExecutor()
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
        node.trigger_shutdown()
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0
