"""Spatial questions about a simulated scene, their exact answers, and how far a measured answer is off.

ROS-free. The demo and the accuracy tests draw questions from a scene (:func:`generate_questions`), ask
them through the node, and compare each answer with the ground truth (:func:`check_answer`), one
:class:`Check` per compared quantity; :func:`summarize` and :func:`format_table` make the table.

Convention:
    World frame of the scene (REP-103, z up, floor at z = 0), metres, seconds of the publisher's
    clock for stamps (the ground truth turns them into scene time), headings in radians
    counter-clockwise from world +x. Relative errors are ``|measured - truth| / truth``; a heading's
    error is the distance between the unit heading vectors (about the angle in radians when
    small); a direction's error is 0 (same word) or 1.

Example:
    >>> from spatialclaw_ros.sim import generate_scene
    >>> questions = generate_questions(generate_scene(seed=1, cameras=("cam0", "cam1")))
    >>> sorted({question.kind for question in questions}) == sorted(QUESTION_KINDS)
    True
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from spatialclaw_ros.geometry import DIRECTIONS, relative_direction
from spatialclaw_ros.sim._ground_truth import GroundTruth
from spatialclaw_ros.sim._scene import Scene
from spatialclaw_ros.sim._truth import ObjectTruth, SceneTruth, centre_distance, height_above_floor

QUESTION_KINDS = ("distance", "size", "height", "count", "direction", "motion")
# Quantities compared, in table order.
QUANTITIES = ("distance", "size", "height", "count", "speed", "heading", "direction")
SIZE_KEYS = ("length", "width", "height")
UP = (0.0, 0.0, 1.0)
# A direction question is asked only when its answer is clear: the dominant offset (metres) is at
# least this long and this many times the second one.
DIRECTION_MIN_M = 0.5
DIRECTION_MARGIN = 1.5


@dataclass(frozen=True)
class Question:
    """One question: what to measure (``kind``), about what (``subjects``), and how to ask it.

    ``subjects`` are object labels ("red chair"), or one category for a count ("chair").
    ``viewer`` is the camera a direction is seen from.
    """

    id: str
    kind: str
    subjects: tuple[str, ...]
    text: str
    viewer: str = ""

    def __post_init__(self) -> None:
        if self.kind not in QUESTION_KINDS:
            raise ValueError(f"Question.kind must be one of {', '.join(QUESTION_KINDS)}, got {self.kind!r}")
        object.__setattr__(self, "subjects", tuple(self.subjects))
        expected = 2 if self.kind in ("distance", "direction") else 1
        if len(self.subjects) != expected:
            raise ValueError(f"a {self.kind} question needs {expected} subjects, got {self.subjects}")
        if self.kind == "direction" and not self.viewer:
            raise ValueError("a direction question needs a viewer camera")

    @property
    def answer_type(self) -> str:
        """The request's answer_type: number, choice or text."""
        if self.kind in ("distance", "height", "count"):
            return "number"
        return "choice" if self.kind == "direction" else "text"

    @property
    def choices(self) -> tuple[str, ...]:
        """The allowed answers of a direction question (else none)."""
        return DIRECTIONS if self.kind == "direction" else ()

    def spec(self, prefix: str = "", cameras: Sequence[str] = ()) -> dict[str, object]:
        """The JSON-able mapping the measurement program reads (``spatialclaw_ros.sim.programs``).

        ``prefix`` goes before the id (to ask several sets at once); ``cameras`` restricts the
        cameras the program measures with (empty: all).
        """
        spec: dict[str, object] = {"id": prefix + self.id, "kind": self.kind, "subjects": list(self.subjects)}
        if self.viewer:
            spec["viewer"] = self.viewer
        if cameras:
            spec["cameras"] = list(cameras)
        return spec


def _direction(truth: SceneTruth, scene: Scene, a: str, b: str, viewer: str, t_s: float):
    T = scene.camera(viewer).T_world_camera(t_s)
    return relative_direction(truth[a].centre_m, truth[b].centre_m, T_world_camera=T, up=UP)


def _clear(direction) -> bool:
    offsets = sorted((abs(direction.right_m), abs(direction.away_m), abs(direction.up_m)), reverse=True)
    return offsets[0] >= DIRECTION_MIN_M and offsets[0] >= DIRECTION_MARGIN * offsets[1]


def generate_questions(
    scene: Scene,
    t_s: float = 0.0,
    *,
    distances: int = 3,
    directions: int = 3,
    objects: int | None = None,
) -> tuple[Question, ...]:
    """Questions about ``scene``, the same for the same scene.

    Sizes and heights of its static objects (the first ``objects``, all when None), ``distances``
    centre distances, a count per category, up to ``directions`` clear relative directions seen
    from the scene's cameras in turn, and the walking person's speed and heading.
    """
    truth = scene.truth(t_s)
    static = [item for item in truth if not item.moving]
    chosen = static if objects is None else static[:objects]
    questions: list[Question] = []

    def add(kind: str, subjects: Sequence[str], text: str, viewer: str = "") -> None:
        questions.append(Question(f"q{len(questions) + 1}", kind, tuple(subjects), text, viewer))

    for item in chosen:
        add("size", [item.label], f"What are the length, width and height of the {item.label}?")
        add("height", [item.label], f"How high above the floor is the top of the {item.label}?")
    for a, b in itertools.islice(itertools.combinations(static, 2), distances):
        add(
            "distance",
            [a.label, b.label],
            f"How far is the centre of the {a.label} from that of the {b.label}?",
        )
    for category in sorted({item.category for item in truth}):
        add("count", [category], f"How many {category} objects are there?")
    asked = 0
    for a, b in itertools.permutations(static, 2):
        if asked == directions:
            break
        viewer = scene.cameras[asked % len(scene.cameras)].name
        if _clear(_direction(truth, scene, a.label, b.label, viewer, t_s)):
            add(
                "direction",
                [a.label, b.label],
                f"Seen from camera {viewer}, is the {b.label} left of, right of, in front of, behind, above "
                f"or below the {a.label}?",
                viewer,
            )
            asked += 1
    for item in truth:
        if item.moving and item.category == "person":
            add("motion", [item.label], f"How fast is the {item.label} walking, and in which direction?")
    return tuple(questions)


@dataclass(frozen=True)
class Check:
    """One measured quantity beside its truth.

    ``error`` is the relative error (see the module docstring); None when the question got no answer
    (``detail`` says why).
    """

    quantity: str
    question_id: str
    subject: str
    truth: float | str
    measured: float | str | None
    error: float | None
    detail: str = ""


def _relative(quantity: str, question: Question, subject: str, truth: float, measured: object) -> Check:
    try:
        value = float(measured)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return Check(quantity, question.id, subject, truth, None, None, f"not a number: {measured!r}")
    if not math.isfinite(value):
        return Check(quantity, question.id, subject, truth, None, None, f"not finite: {value}")
    return Check(quantity, question.id, subject, truth, value, abs(value - truth) / abs(truth))


def _object_truth(truth: SceneTruth, label: str) -> ObjectTruth:
    return truth[label]


def check_answer(question: Question, value: object, ground_truth: GroundTruth) -> list[Check]:
    """Compare one answer value (as the measurement program's survey gives it) with the truth.

    ``value``: a number (distance, height, count), ``{"length", "width", "height"}`` (size), a word
    (direction), ``{"speed_mps", "heading_rad", "from_stamp", "to_stamp"}`` (motion; the stamps are
    the publisher clock's seconds of the samples used, the truth is the mean velocity between them),
    or ``{"error": reason}``.
    """
    subject = " / ".join(question.subjects)
    quantities = {
        "size": [f"size {key}" for key in SIZE_KEYS],
        "motion": ["speed", "heading"],
    }.get(question.kind, [question.kind])
    if isinstance(value, Mapping) and "error" in value:
        return [Check(q, question.id, subject, "", None, None, str(value["error"])) for q in quantities]
    scene = ground_truth.scene
    if question.kind == "motion":
        return _check_motion(question, value, ground_truth, subject)
    truth = scene.truth(0.0)
    if question.kind == "distance":
        a, b = (_object_truth(truth, label) for label in question.subjects)
        return [_relative("distance", question, subject, centre_distance(a, b), value)]
    if question.kind == "height":
        return [_relative("height", question, subject, height_above_floor(truth[subject]), value)]
    if question.kind == "count":
        return [_relative("count", question, subject, float(truth.count(subject)), value)]
    if question.kind == "size":
        item = truth[subject]
        sx, sy, sz = item.size_m
        expected = {"length": max(sx, sy), "width": min(sx, sy), "height": sz}
        measured = value if isinstance(value, Mapping) else {}
        return [
            _relative("size", question, f"{subject} {key}", expected[key], measured.get(key))
            for key in SIZE_KEYS
        ]
    a, b = question.subjects
    word = _direction(truth, scene, a, b, question.viewer, 0.0).primary
    got = str(value).strip().lower()
    return [
        Check("direction", question.id, f"{b} from {a} ({question.viewer})", word, got, float(got != word))
    ]


def _check_motion(question: Question, value: object, ground_truth: GroundTruth, subject: str) -> list[Check]:
    if not isinstance(value, Mapping):
        return [
            Check(q, question.id, subject, "", None, None, f"not a motion answer: {value!r}")
            for q in ("speed", "heading")
        ]
    item = ground_truth.scene.object(subject)
    t0 = ground_truth.scene_time_s(float(value["from_stamp"]))
    t1 = ground_truth.scene_time_s(float(value["to_stamp"]))
    if t1 <= t0:
        return [
            Check(q, question.id, subject, "", None, None, "fewer than two samples")
            for q in ("speed", "heading")
        ]
    velocity = (item.centre_at(t1) - item.centre_at(t0)) / (t1 - t0)
    speed = math.hypot(velocity[0], velocity[1])
    heading = math.atan2(velocity[1], velocity[0])
    checks = [_relative("speed", question, subject, speed, value.get("speed_mps"))]
    measured = float(value.get("heading_rad", math.nan))
    gap = abs((measured - heading + math.pi) % (2.0 * math.pi) - math.pi)
    error = 2.0 * math.sin(0.5 * gap) if math.isfinite(measured) else None
    checks.append(Check("heading", question.id, subject, heading, measured, error))
    return checks


def survey_values(answer_text: str) -> dict[str, object]:
    """The ``{id: value}`` of a survey answer (the JSON text the program returns)."""
    values = json.loads(answer_text)
    if not isinstance(values, dict):
        raise ValueError(f"a survey answer is a JSON object, got {type(values).__name__}")
    return values


@dataclass(frozen=True)
class Summary:
    """One row of the accuracy table: a quantity over every check of it.

    ``mean``/``max`` are relative errors (directions: the share answered wrongly); ``missing``
    counts checks without an answer, which count as wrong.
    """

    quantity: str
    n: int
    mean: float
    max: float
    missing: int

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "quantity": self.quantity,
            "n": self.n,
            "mean": self.mean,
            "max": self.max,
            "missing": self.missing,
        }


def summarize(checks: Iterable[Check]) -> list[Summary]:
    """One :class:`Summary` per quantity present, in ``QUANTITIES`` order (a missing answer: error 1)."""
    by_quantity: dict[str, list[Check]] = {}
    for check in checks:
        by_quantity.setdefault(check.quantity.split()[0], []).append(check)
    rows = []
    for quantity in QUANTITIES:
        items = by_quantity.get(quantity)
        if not items:
            continue
        errors = np.array([1.0 if check.error is None else check.error for check in items])
        missing = sum(check.error is None for check in items)
        rows.append(Summary(quantity, len(items), float(errors.mean()), float(errors.max()), missing))
    return rows


def format_table(rows: Sequence[Summary], title: str = "") -> str:
    """The rows as a fixed-width text table (percentages; directions as % correct)."""
    lines = [title] if title else []
    lines.append(f"{'quantity':<10} {'n':>4}  {'mean error':>10}  {'max error':>9}  {'missing':>7}")
    for row in rows:
        if row.quantity == "direction":
            mean = f"{100.0 * (1.0 - row.mean):.1f}% ok"
            worst = "-"
        else:
            mean, worst = f"{100.0 * row.mean:.3f}%", f"{100.0 * row.max:.2f}%"
        lines.append(f"{row.quantity:<10} {row.n:>4}  {mean:>10}  {worst:>9}  {row.missing:>7}")
    return "\n".join(lines)
