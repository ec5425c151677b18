"""rviz output of an answer: markers, object poses and trajectory paths, all built from a SpatialAnswer.

Convention:
    Every marker, pose and path carries ``header`` (default: the answer's): the answer's frame, stamped
    with the moment measured so that rviz places it as it was then. Sizes are metres. Namespaces are
    stable (``objects``, ``object_labels``, ``distances``, ``distance_labels``, ``trajectories``,
    ``trajectory_arrows``) and ids count from 0 in the order of the answer's lists, so a display can be
    filtered by namespace. Each array starts with a DELETEALL marker: the markers of the previous answer
    never linger.
"""

from __future__ import annotations

import colorsys
import hashlib
import itertools
import math

from geometry_msgs.msg import Point, Pose, PoseArray, Quaternion, Vector3
from nav_msgs.msg import Path
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from spatialclaw_ros.msg import Measurement, SpatialAnswer

MIN_SCALE_M = 0.01
TEXT_HEIGHT_M = 0.12
LINE_WIDTH_M = 0.02
ARROWS_PER_TRAJECTORY = 8


def label_color(label: str, alpha: float = 1.0) -> ColorRGBA:
    """A stable, saturated colour per label (same label, same colour across answers)."""
    hue = int(hashlib.sha1(label.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    red, green, blue = colorsys.hsv_to_rgb(hue, 0.8, 0.95)
    return ColorRGBA(r=red, g=green, b=blue, a=alpha)


def answer_markers(answer: SpatialAnswer, header: Header | None = None) -> MarkerArray:
    """Boxes and labels per object, a line and its value per distance, a strip and arrows per trajectory."""
    header = header or answer.header
    markers = [Marker(header=header, action=Marker.DELETEALL)]
    for index, item in enumerate(answer.objects):
        markers.append(_object_box(header, index, item))
        markers.append(_object_label(header, index, item))
    distances = [m for m in answer.measurements if m.type == Measurement.DISTANCE and len(m.points) >= 2]
    for index, measurement in enumerate(distances):
        markers.extend(_distance(header, index, measurement))
    for index, trajectory in enumerate(answer.trajectories):
        markers.extend(_trajectory(header, index, trajectory))
    return MarkerArray(markers=markers)


def answer_poses(answer: SpatialAnswer, header: Header | None = None) -> PoseArray:
    """The box centre pose of every object of the answer."""
    return PoseArray(header=header or answer.header, poses=[item.pose for item in answer.objects])


def answer_paths(answer: SpatialAnswer, header: Header | None = None) -> list[Path]:
    """One ``nav_msgs/Path`` per trajectory, in the answer's frame."""
    header = header or answer.header
    return [Path(header=header, poses=list(trajectory.path.poses)) for trajectory in answer.trajectories]


def _object_box(header: Header, index: int, item) -> Marker:
    size = item.size
    return Marker(
        header=header,
        ns="objects",
        id=index,
        type=Marker.CUBE,
        action=Marker.ADD,
        pose=item.pose,
        scale=Vector3(x=max(size.x, MIN_SCALE_M), y=max(size.y, MIN_SCALE_M), z=max(size.z, MIN_SCALE_M)),
        color=label_color(item.label, alpha=0.45),
    )


def _object_label(header: Header, index: int, item) -> Marker:
    position = item.pose.position
    above = Point(x=position.x, y=position.y, z=position.z + item.size.z / 2.0 + TEXT_HEIGHT_M)
    return Marker(
        header=header,
        ns="object_labels",
        id=index,
        type=Marker.TEXT_VIEW_FACING,
        action=Marker.ADD,
        pose=Pose(position=above, orientation=Quaternion(w=1.0)),
        scale=Vector3(z=TEXT_HEIGHT_M),
        color=ColorRGBA(r=1.0, g=1.0, b=1.0, a=1.0),
        text=f"{item.label} ({item.score:.2f})",
    )


def _distance(header: Header, index: int, measurement) -> list[Marker]:
    start, end = measurement.points[0], measurement.points[1]
    line = Marker(
        header=header,
        ns="distances",
        id=index,
        type=Marker.LINE_LIST,
        action=Marker.ADD,
        pose=Pose(orientation=Quaternion(w=1.0)),
        scale=Vector3(x=LINE_WIDTH_M),
        color=ColorRGBA(r=1.0, g=0.85, b=0.1, a=1.0),
        points=[start, end],
    )
    middle = Point(
        x=(start.x + end.x) / 2.0, y=(start.y + end.y) / 2.0, z=(start.z + end.z) / 2.0 + TEXT_HEIGHT_M
    )
    label = Marker(
        header=header,
        ns="distance_labels",
        id=index,
        type=Marker.TEXT_VIEW_FACING,
        action=Marker.ADD,
        pose=Pose(position=middle, orientation=Quaternion(w=1.0)),
        scale=Vector3(z=TEXT_HEIGHT_M),
        color=ColorRGBA(r=1.0, g=0.85, b=0.1, a=1.0),
        text=f"{measurement.name}: {measurement.value:.2f} {measurement.unit}",
    )
    return [line, label]


def _trajectory(header: Header, index: int, trajectory) -> list[Marker]:
    points = [pose.pose.position for pose in trajectory.path.poses]
    color = label_color(trajectory.label)
    markers = [
        Marker(
            header=header,
            ns="trajectories",
            id=index,
            type=Marker.LINE_STRIP,
            action=Marker.ADD,
            pose=Pose(orientation=Quaternion(w=1.0)),
            scale=Vector3(x=LINE_WIDTH_M),
            color=color,
            points=points,
        )
    ]
    segments = [(a, b) for a, b in itertools.pairwise(points) if _length(a, b) > 0.0]
    stride = max(1, math.ceil(len(segments) / ARROWS_PER_TRAJECTORY))
    for arrow_index, (tail, head) in enumerate(segments[::stride]):
        markers.append(
            Marker(
                header=header,
                ns="trajectory_arrows",
                id=index * 1000 + arrow_index,
                type=Marker.ARROW,
                action=Marker.ADD,
                pose=Pose(orientation=Quaternion(w=1.0)),
                scale=Vector3(x=LINE_WIDTH_M, y=2.5 * LINE_WIDTH_M, z=3.0 * LINE_WIDTH_M),
                color=color,
                points=[tail, head],
            )
        )
    return markers


def _length(a: Point, b: Point) -> float:
    return math.dist((a.x, a.y, a.z), (b.x, b.y, b.z))
