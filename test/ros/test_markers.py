"""rviz markers, poses and paths built from an answer."""

from __future__ import annotations

import pytest
from geometry_msgs.msg import Point, Pose, PoseStamped, Quaternion, Vector3
from nav_msgs.msg import Path
from std_msgs.msg import Header
from visualization_msgs.msg import Marker

from spatialclaw_ros.msg import Measurement, SpatialAnswer, SpatialObject, Trajectory
from spatialclaw_ros.ros.markers import answer_markers, answer_paths, answer_poses, label_color

pytestmark = pytest.mark.ros


def answer() -> SpatialAnswer:
    header = Header(frame_id="map")
    chair = SpatialObject(
        header=header,
        id="chair_0",
        label="chair",
        pose=Pose(position=Point(x=1.0, y=2.0, z=0.5), orientation=Quaternion(w=1.0)),
        size=Vector3(x=0.5, y=0.5, z=1.0),
        score=0.9,
    )
    door = SpatialObject(header=header, id="door_0", label="door", pose=Pose(orientation=Quaternion(w=1.0)))
    distance = Measurement(
        header=header,
        type=Measurement.DISTANCE,
        name="chair_to_door",
        value=2.24,
        unit="m",
        points=[Point(x=1.0, y=2.0, z=0.5), Point(x=0.0, y=0.0, z=0.5)],
    )
    count = Measurement(header=header, type=Measurement.COUNT, name="chairs", value=1.0, unit="1")
    poses = [PoseStamped(pose=Pose(position=Point(x=0.1 * i))) for i in range(30)]
    walk = Trajectory(id="person_0", label="person", path=Path(header=header, poses=poses))
    return SpatialAnswer(
        header=header, objects=[chair, door], measurements=[count, distance], trajectories=[walk]
    )


def by_namespace(markers, namespace):
    return [m for m in markers.markers if m.ns == namespace]


def test_first_marker_deletes_the_previous_answer():
    markers = answer_markers(answer())
    assert markers.markers[0].action == Marker.DELETEALL


def test_one_box_and_one_label_per_object_with_stable_ids():
    markers = answer_markers(answer())
    boxes = by_namespace(markers, "objects")
    assert [b.id for b in boxes] == [0, 1]
    assert boxes[0].type == Marker.CUBE
    assert (boxes[0].scale.x, boxes[0].scale.z) == (0.5, 1.0)
    assert boxes[1].scale.x == pytest.approx(0.01), "an unknown size still shows a small box"
    labels = by_namespace(markers, "object_labels")
    assert labels[0].text == "chair (0.90)"
    assert labels[0].pose.position.z > 1.0, "the label floats above the box"


def test_distance_line_joins_its_points_and_shows_its_value():
    markers = answer_markers(answer())
    (line,) = by_namespace(markers, "distances")
    assert [(p.x, p.y) for p in line.points] == [(1.0, 2.0), (0.0, 0.0)]
    (text,) = by_namespace(markers, "distance_labels")
    assert text.text == "chair_to_door: 2.24 m"


def test_trajectory_strip_and_a_bounded_number_of_arrows():
    markers = answer_markers(answer())
    (strip,) = by_namespace(markers, "trajectories")
    assert len(strip.points) == 30
    arrows = by_namespace(markers, "trajectory_arrows")
    assert 1 <= len(arrows) <= 8
    assert all(a.points[1].x > a.points[0].x for a in arrows), "arrows point along the motion"


def test_every_marker_is_in_the_answer_frame():
    assert {m.header.frame_id for m in answer_markers(answer()).markers} == {"map"}


def test_poses_and_paths():
    assert [p.position.x for p in answer_poses(answer()).poses] == [1.0, 0.0]
    (path,) = answer_paths(answer())
    assert path.header.frame_id == "map" and len(path.poses) == 30


def test_label_colour_is_stable_per_label():
    assert label_color("chair") == label_color("chair")
    assert label_color("chair") != label_color("door")


def test_a_given_header_stamps_every_output():
    stamped = Header(frame_id="map")
    stamped.stamp.sec = 42
    assert {m.header.stamp.sec for m in answer_markers(answer(), stamped).markers} == {42}
    assert answer_poses(answer(), stamped).header.stamp.sec == 42
    assert [p.header.stamp.sec for p in answer_paths(answer(), stamped)] == [42]
