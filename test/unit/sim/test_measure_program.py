"""The measurement program's fitting pieces on point sets with exact answers (ROS-free, no kernel)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spatialclaw_ros.sim.programs import measure, question_cell, survey_cell


def _surface(points: np.ndarray) -> measure.Surface:
    n = len(points)
    return measure.Surface(points, np.zeros(n), np.full(n, 0.005), np.tile([0.0, 0.0, 1.0], (n, 1)))


def _box_faces(size, centre, yaw_rad, step=0.02) -> np.ndarray:
    """Points on the four sides and the top of an upright box (what cameras around it see)."""
    hx, hy, hz = (0.5 * v for v in size)
    u = np.arange(-1.0, 1.0 + 1e-9, step / max(hx, hy, hz))
    a, b = np.meshgrid(u, u)
    a, b = a.ravel(), b.ravel()
    faces = [np.column_stack([np.full_like(a, s * hx), a * hy, b * hz]) for s in (-1, 1)] + [
        np.column_stack([a * hx, np.full_like(a, s * hy), b * hz]) for s in (-1, 1)
    ]
    faces.append(np.column_stack([a * hx, b * hy, np.full_like(a, hz)]))
    local = np.concatenate(faces)
    c, s = math.cos(yaw_rad), math.sin(yaw_rad)
    return local @ np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]]) + np.asarray(centre)


def test_exact_box_surface_gives_its_size_and_centre():
    points = _box_faces((1.2, 0.5, 0.8), (2.0, -1.0, 0.4), yaw_rad=0.6)
    box = measure.fit_upright_box(_surface(points))
    np.testing.assert_allclose(box.size, [1.2, 0.5, 0.8], atol=1e-6)
    np.testing.assert_allclose(box.center, [2.0, -1.0, 0.4], atol=1e-6)


def test_half_a_cylinder_is_recognised_by_its_circle():
    angles = np.linspace(-0.5 * math.pi, 0.5 * math.pi, 200)
    z = np.linspace(0.0, 1.5, 30)
    a, h = np.meshgrid(angles, z)
    points = np.column_stack([1.0 + 0.25 * np.cos(a.ravel()), 0.25 * np.sin(a.ravel()), h.ravel()])
    box = measure.fit_upright_box(_surface(points))
    np.testing.assert_allclose(box.size, [0.5, 0.5, 1.5], atol=1e-6)
    np.testing.assert_allclose(box.center[:2], [1.0, 0.0], atol=1e-6)


def test_a_shallow_arc_is_a_face_not_a_wide_cylinder():
    """One face seen slightly bent (two views that disagree a little) fits a circle of huge radius.

    The circle fits such points better than any rectangle, but its diameter is far wider than the
    footprint: the object is the box around the face, not a cylinder metres across.
    """
    angles = np.linspace(-0.024, 0.024, 60)  # 0.48 m of a 10 m radius arc: 2.9 mm deep
    z = np.linspace(0.0, 0.34, 30)
    a, h = np.meshgrid(angles, z)
    points = np.column_stack([-7.0 + 10.0 * np.cos(a.ravel()), 10.0 * np.sin(a.ravel()), h.ravel()])
    box = measure.fit_upright_box(_surface(points))
    assert box.size[0] == pytest.approx(0.48, abs=1e-3) and box.size[1] < 0.004
    assert abs(box.center[0] - 3.0) < 0.003 and abs(box.center[1]) < 1e-6


def test_the_track_is_cut_after_the_last_reversal():
    stamps = np.arange(8.0)
    x = np.array([0.0, 1.0, 2.0, 3.0, 2.5, 1.5, 0.5, -0.5])
    centres = np.column_stack([x, np.zeros(8), np.zeros(8)])
    stretch = measure.latest_straight_stretch(stamps, centres)
    assert (stretch.start, stretch.stop) == (4, 8), "sample 3 may lie on either side of the turn"
    np.testing.assert_allclose(measure.velocity(stamps[stretch], centres[stretch]), [-1.0, 0.0, 0.0])


def test_a_turn_within_the_last_step_is_cut_off():
    """1 m/s, turning round 0.7 s into the last 1 s step: it still moves forward, by 0.4 m only."""
    stamps = np.arange(8.0)
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 6.4])
    centres = np.column_stack([x, np.zeros(8), np.zeros(8)])
    stretch = measure.latest_straight_stretch(stamps, centres)
    assert (stretch.start, stretch.stop) == (0, 7)
    np.testing.assert_allclose(measure.velocity(stamps[stretch], centres[stretch]), [1.0, 0.0, 0.0])


def test_a_centre_pulled_aside_does_not_tilt_the_velocity():
    """At one tick the walker is half hidden and its fitted centre lands 0.3 m off its path."""
    stamps = np.arange(0.0, 2.01, 0.25)
    centres = np.column_stack([1.0 + 0.8 * stamps, 2.0 - 0.6 * stamps, np.full(len(stamps), 0.9)])
    centres[6, :2] += [0.3, 0.2]
    np.testing.assert_allclose(measure.velocity(stamps, centres), [0.8, -0.6, 0.0], atol=1e-12)


@pytest.mark.parametrize(
    ("cell", "call"),
    [
        (question_cell({"id": "q1", "kind": "height", "subjects": ["red chair"]}), "answer_one"),
        (survey_cell([{"id": "q1", "kind": "count", "subjects": ["chair"]}]), "answer_questions"),
    ],
)
def test_cells_are_the_program_and_one_call(cell, call):
    compile(cell, "<cell>", "exec")
    assert cell.startswith(measure.__doc__.splitlines()[0], 3)
    assert cell.rstrip().splitlines()[-1].startswith(f"ReturnAnswer(**{call}(frames, tools, ")
