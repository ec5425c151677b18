"""The node's health on ``/diagnostics``: inputs per camera, buffer memory, VLM, perception, kernels, queries.

diagnostic_updater is not on PyPI; this builds the ``diagnostic_msgs/DiagnosticArray`` itself, one status
per concern, named ``<node name>: <concern>`` as diagnostic_updater would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

from spatialclaw_ros.frames import CameraStats
from spatialclaw_ros.sandbox import Isolation

OK, WARN, ERROR = DiagnosticStatus.OK, DiagnosticStatus.WARN, DiagnosticStatus.ERROR


@dataclass(frozen=True)
class Reachability:
    """Whether an outside service answers, and what it said last."""

    reachable: bool
    detail: str


@dataclass(frozen=True)
class NodeHealth:
    """Everything ``/diagnostics`` reports about the node at one moment."""

    cameras: Mapping[str, CameraStats]
    expected_cameras: tuple[str, ...]
    buffer_bytes: int
    buffer_cap_bytes: int
    vlm: Reachability
    perception: Reachability
    warm_kernels: int
    pool_size: int
    sandbox_error: str
    queries_running: int
    max_queries: int
    lifecycle_state: str = "active"
    topic_ages: Mapping[str, Sequence[tuple[str, float | None]]] = field(default_factory=dict)
    depth_required: tuple[str, ...] = ()
    isolation: Isolation | None = None


def diagnostic_array(health: NodeHealth, node_name: str, hardware_id: str, stamp) -> DiagnosticArray:
    """The ``DiagnosticArray`` of ``health``, stamped ``stamp`` (``builtin_interfaces/Time``)."""
    statuses = [_lifecycle_status(node_name, health.lifecycle_state)]
    statuses += [
        _camera_status(
            node_name,
            name,
            health.cameras.get(name),
            health.topic_ages.get(name, ()),
            depth_required=name in health.depth_required,
        )
        for name in health.expected_cameras
    ]
    statuses += [
        _buffer_status(node_name, health),
        _reachability_status(node_name, "vlm", health.vlm, unreachable_level=WARN),
        _reachability_status(node_name, "perception", health.perception, unreachable_level=WARN),
        _kernels_status(node_name, health),
        _queries_status(node_name, health),
    ]
    for status in statuses:
        status.hardware_id = hardware_id
    array = DiagnosticArray(status=statuses)
    array.header.stamp = stamp
    return array


def _values(**values: object) -> list[KeyValue]:
    return [KeyValue(key=key, value=str(value)) for key, value in values.items()]


def topic_silence(ages: Sequence[tuple[str, float | None]]) -> str:
    """``topic (never), topic (last message 3.2 s ago), ...`` of (topic, seconds since its last message)."""
    return ", ".join(
        f"{topic} ({'never' if age_s is None else f'last message {age_s:.1f} s ago'})"
        for topic, age_s in ages
    )


def _lifecycle_status(node_name: str, state: str) -> DiagnosticStatus:
    return DiagnosticStatus(
        level=OK if state == "active" else WARN,
        name=f"{node_name}: lifecycle",
        message=state if state == "active" else f"{state}: queries answer NOT_READY",
        values=_values(state=state),
    )


def _camera_status(
    node_name: str,
    camera: str,
    stats: CameraStats | None,
    topic_ages: Sequence[tuple[str, float | None]],
    *,
    depth_required: bool,
) -> DiagnosticStatus:
    name = f"{node_name}: camera {camera}"
    ages = [
        KeyValue(key=f"age_s {topic}", value="never" if age_s is None else f"{age_s:.2f}")
        for topic, age_s in topic_ages
    ]
    if stats is None or stats.received == 0:
        listed = topic_silence(topic_ages)
        message = "no frames received yet" + (f"; topics: {listed}" if listed else "")
        return DiagnosticStatus(level=WARN, name=name, message=message, values=ages)
    level, message = OK, f"{stats.rate_hz:.1f} Hz"
    if stats.rejected:
        level, message = WARN, f"{stats.rate_hz:.1f} Hz, {stats.rejected} rejected: {stats.last_error}"
    elif not stats.camera_info:
        level, message = WARN, f"{stats.rate_hz:.1f} Hz, no camera_info yet"
    elif depth_required and stats.depth_received == 0:
        level, message = WARN, f"{stats.rate_hz:.1f} Hz, depth required but none received yet"
    elif depth_required and stats.depth_kept < stats.kept:
        level = WARN
        lacking = stats.kept - stats.depth_kept
        message = f"{stats.rate_hz:.1f} Hz, depth required but {lacking} kept frames lack it"
    return DiagnosticStatus(
        level=level,
        name=name,
        message=message,
        values=ages
        + _values(
            rate_hz=f"{stats.rate_hz:.2f}",
            received=stats.received,
            kept=stats.kept,
            dropped=stats.dropped,
            evicted=stats.evicted,
            rejected=stats.rejected,
            waiting=stats.waiting,
            depth_received=stats.depth_received,
            depth_kept=stats.depth_kept,
            depth_missed=stats.depth_missed,
            depth_rejected=stats.depth_rejected,
            labels_received=stats.labels_received,
            labels_rejected=stats.labels_rejected,
            label_map_size=stats.label_map_size,
            bytes=stats.bytes,
            last_stamp_s=stats.last_stamp_s,
        ),
    )


def _buffer_status(node_name: str, health: NodeHealth) -> DiagnosticStatus:
    used = health.buffer_bytes / max(1, health.buffer_cap_bytes)
    level = WARN if used > 0.95 else OK
    return DiagnosticStatus(
        level=level,
        name=f"{node_name}: frame buffer",
        message=f"{health.buffer_bytes / 2**20:.1f} of {health.buffer_cap_bytes / 2**20:.0f} MiB",
        values=_values(bytes=health.buffer_bytes, cap_bytes=health.buffer_cap_bytes),
    )


def _reachability_status(
    node_name: str, concern: str, reachability: Reachability, unreachable_level: bytes
) -> DiagnosticStatus:
    return DiagnosticStatus(
        level=OK if reachability.reachable else unreachable_level,
        name=f"{node_name}: {concern}",
        message=("reachable: " if reachability.reachable else "unreachable: ") + reachability.detail,
    )


def _kernels_status(node_name: str, health: NodeHealth) -> DiagnosticStatus:
    if health.sandbox_error:
        return DiagnosticStatus(
            level=ERROR, name=f"{node_name}: kernels", message=f"sandbox unavailable: {health.sandbox_error}"
        )
    level = OK if health.warm_kernels > 0 or health.pool_size == 0 else WARN
    message = f"{health.warm_kernels} of {health.pool_size} warm"
    values = _values(warm=health.warm_kernels, pool_size=health.pool_size)
    isolation = health.isolation
    if isolation is not None:
        weaknesses = isolation.weaknesses()
        if weaknesses:
            level = WARN
            message += f"; weaker isolation: {', '.join(weaknesses)}"
        values += _values(
            launcher=isolation.launcher,
            process_limit=isolation.process_limit,
            scratch_quota=isolation.scratch_quota,
            seccomp=isolation.seccomp,
        )
    return DiagnosticStatus(level=level, name=f"{node_name}: kernels", message=message, values=values)


def _queries_status(node_name: str, health: NodeHealth) -> DiagnosticStatus:
    level = WARN if health.queries_running >= health.max_queries else OK
    return DiagnosticStatus(
        level=level,
        name=f"{node_name}: queries",
        message=f"{health.queries_running} of {health.max_queries} running",
        values=_values(running=health.queries_running, limit=health.max_queries),
    )
