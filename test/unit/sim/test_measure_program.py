"""The measurement program: its cells, and its answers on a rendered scene (ROS-free, no kernel).

Its estimators are tested as geometry functions (test/unit/geometry). Here the program's own part
(reading frames, asking the tools for masks, putting answers together) runs on frames rendered in
memory, with tools that read the render's label images as the perception service's labels backend
does; the accuracy survey (test/accuracy) runs it through the live node.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from spatialclaw_ros.perception._labels import name_matches
from spatialclaw_ros.sim import DepthNoise, GroundTruth, SceneRenderer, add_depth_noise, generate_scene
from spatialclaw_ros.sim.programs import measure, question_cell, survey_cell
from spatialclaw_ros.sim.questions import check_answer, generate_questions

CAMERAS = ("c0", "c1", "c2", "c3")
# Scene time of the frames, a 2 s window at 4 Hz, from 1 s: the walker turns round at 0.015 s, and a
# window from 0 would hold that turn in its first step, which the truth (the chord from the first to the
# last sample) includes and the measured walk leaves out.
STAMPS_S = np.arange(1.0, 3.01, 0.25)
# Mean relative error the answers of one scene stay below, per depth kind (the survey's targets).
TARGETS = {"exact": 0.01, "noisy": 0.05}


class _Frames(list):
    """The kernel's ``frames`` as the program uses them: a list with ``cameras`` and ``by_camera``."""

    @property
    def cameras(self) -> list[str]:
        return sorted({frame.camera for frame in self})

    def by_camera(self, name: str) -> _Frames:
        return _Frames(frame for frame in self if frame.camera == name)


class _LabelTools:
    """``tools.track`` and ``tools.segment`` answered from the frames' label images and label maps."""

    @staticmethod
    def _ids(frame, prompt: str) -> list[int]:
        return [i for i, name in frame.label_map.items() if name_matches(prompt, name)]

    def track(self, frames, prompt: str) -> SimpleNamespace:
        # One track of all the prompt's instances: the program takes their union per frame anyway.
        masks = np.stack([np.isin(frame.labels, self._ids(frame, prompt)) for frame in frames])
        return SimpleNamespace(masks=masks[None])

    def segment(self, frame, prompt: str) -> SimpleNamespace:
        seen = set(np.unique(frame.labels).tolist())
        return SimpleNamespace(
            labels=tuple(frame.label_map[i] for i in self._ids(frame, prompt) if i in seen)
        )


@pytest.fixture(scope="module", params=sorted(TARGETS))
def rendered(request):
    """Scene 0 seen by four fixed cameras at 4 Hz for 2 s (exact or noisy depth), and its ground truth."""
    scene = generate_scene(seed=0, kind="room", cameras=CAMERAS, width=320, height=240, hfov_deg=70.0)
    renderer = SceneRenderer(scene)
    label_map = dict(scene.label_map())
    rng = np.random.default_rng(0)
    frames = _Frames()
    for t_s in STAMPS_S:
        for camera in CAMERAS:
            view = renderer.render(camera, float(t_s))
            depth = view.depth_m
            if request.param == "noisy":
                depth = add_depth_noise(depth, view.incidence_cos, DepthNoise(), rng)
            frames.append(
                SimpleNamespace(
                    camera=camera,
                    stamp=float(t_s),
                    depth=depth,
                    K=np.asarray(scene.camera(camera).K),
                    T_world_camera=view.T_world_camera,
                    labels=view.labels,
                    label_map=label_map,
                )
            )
    return request.param, frames, GroundTruth(scene, "world", 0.0, {})


def test_every_question_is_answered_as_the_truth_says(rendered):
    """Counts exact, directions right, the other quantities' mean errors within the survey's targets."""
    kind, frames, truth = rendered
    questions = generate_questions(truth.scene)
    answer = measure.answer_questions(frames, _LabelTools(), json.dumps([q.spec() for q in questions]))
    values = json.loads(answer["answer"])
    checks = [check for q in questions for check in check_answer(q, values[q.id], truth)]
    assert all(check.error is not None for check in checks), [
        check for check in checks if check.error is None
    ]
    errors: dict[str, list[float]] = {}
    for check in checks:
        errors.setdefault(check.quantity.split()[0], []).append(check.error)
    assert set(errors) == {"size", "height", "distance", "count", "direction", "speed", "heading"}
    assert max(errors.pop("count")) == 0.0 and max(errors.pop("direction")) == 0.0
    means = {quantity: float(np.mean(values)) for quantity, values in errors.items()}
    assert all(mean < TARGETS[kind] for mean in means.values()), means
    labels = {item.label for item in answer["objects"]}
    assert labels == {
        q.subjects[0] for q in questions if q.kind in ("size", "height", "distance", "direction")
    } | {q.subjects[1] for q in questions if q.kind in ("distance", "direction")}
    assert [trajectory.label for trajectory in answer["trajectories"]] == [
        q.subjects[0] for q in questions if q.kind == "motion"
    ]


def test_a_question_the_frames_cannot_answer_is_an_error_value_not_a_failure(rendered):
    _, frames, _ = rendered
    specs = [
        {"id": "ghost", "kind": "size", "subjects": ["unicorn"]},
        {"id": "n", "kind": "count", "subjects": ["chair"]},
    ]
    values = json.loads(measure.answer_questions(frames, _LabelTools(), json.dumps(specs))["answer"])
    assert "unicorn" in values["ghost"]["error"]
    assert isinstance(values["n"], int)


def test_one_question_answers_a_sentence_for_a_size(rendered):
    _, frames, truth = rendered
    (size,) = [q for q in generate_questions(truth.scene) if q.kind == "size"][:1]
    answer = measure.answer_one(frames, _LabelTools(), json.dumps(size.spec()))
    assert answer["answer"].startswith("length ") and answer["answer"].endswith(" m")
    assert [m.name for m in answer["measurements"]] == [
        f"{size.id}.length",
        f"{size.id}.width",
        f"{size.id}.height",
    ]


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
