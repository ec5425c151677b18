"""Questions drawn from a scene, and answers checked against its ground truth."""

from __future__ import annotations

import math

import pytest

from spatialclaw_ros.sim import GroundTruth, generate_scene
from spatialclaw_ros.sim.questions import Question, check_answer, format_table, generate_questions, summarize


@pytest.fixture(scope="module")
def truth() -> GroundTruth:
    scene = generate_scene(seed=4, cameras=("cam0", "cam1", "cam2", "cam3"), width=80, height=60)
    return GroundTruth(scene=scene, world_frame="map", time_origin_s=100.0, optical_frames={})


def _exact(question: Question, truth: GroundTruth) -> object:
    objects = truth.scene.truth(0.0)
    if question.kind == "size":
        sx, sy, sz = objects[question.subjects[0]].size_m
        return {"length": max(sx, sy), "width": min(sx, sy), "height": sz}
    if question.kind == "height":
        return objects[question.subjects[0]].top_m
    if question.kind == "count":
        return objects.count(question.subjects[0])
    if question.kind == "distance":
        a, b = (objects[label].centre_m for label in question.subjects)
        return math.dist(a, b)
    if question.kind == "motion":
        mover = truth.scene.object(question.subjects[0])
        start, end = mover.path.turn_times_s(0.0, 60.0)[:2]
        t0, t1 = start + 0.1, start + 0.1 + 0.5 * (end - start)
        vx, vy, _ = mover.velocity_at(t0)
        return {
            "speed_mps": math.hypot(vx, vy),
            "heading_rad": math.atan2(vy, vx),
            "from_stamp": t0 + truth.time_origin_s,
            "to_stamp": t1 + truth.time_origin_s,
        }
    return None


def test_the_same_scene_gives_the_same_questions(truth):
    assert generate_questions(truth.scene) == generate_questions(truth.scene)


def test_exact_answers_have_zero_error(truth):
    checks = []
    for question in generate_questions(truth.scene):
        if question.kind != "direction":
            checks += check_answer(question, _exact(question, truth), truth)
    assert checks and all(check.error == pytest.approx(0.0, abs=1e-9) for check in checks)


def test_a_direction_question_is_clear_and_the_other_words_are_wrong(truth):
    (question, *_) = [q for q in generate_questions(truth.scene) if q.kind == "direction"]
    # The check of any answer, even a word that is not a direction, carries the true direction.
    right = check_answer(question, "nowhere", truth)[0].truth
    assert check_answer(question, right, truth)[0].error == 0.0
    wrong = next(word for word in question.choices if word != right)
    assert check_answer(question, wrong, truth)[0].error == 1.0


def test_an_unanswered_question_counts_as_missing_and_wrong(truth):
    question = next(q for q in generate_questions(truth.scene) if q.kind == "height")
    checks = check_answer(question, {"error": "no camera sees it"}, truth)
    (row,) = summarize(checks)
    assert (row.missing, row.mean) == (1, 1.0)
    assert "height" in format_table([row])


def test_a_direction_question_needs_a_viewer():
    with pytest.raises(ValueError, match="viewer"):
        Question("q1", "direction", ("a", "b"), "where?")
