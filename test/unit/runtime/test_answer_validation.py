import math

import numpy as np
import pytest

from spatialclaw_ros.runtime import answer
from spatialclaw_ros.runtime.answer import AnswerError, Measurement, Object3D, Trajectory, validate_payload


@pytest.mark.parametrize(
    ("value", "answer_type", "choices", "text"),
    [
        (np.float32(2.5), "number", (), "2.5"),
        ("3", "number", (), "3.0"),
        (4, "number", (), "4"),
        ("Yes", "boolean", (), "true"),
        (False, "boolean", (), "false"),
        (" left  side ", "choice", ("Left side", "right"), "Left side"),
        ("a chair", "", (), "a chair"),
    ],
)
def test_answers_normalised(value, answer_type, choices, text):
    assert answer.normalize_answer(value, answer_type, choices)[0] == text


@pytest.mark.parametrize(
    ("value", "answer_type", "choices", "message"),
    [
        ("far", "number", (), "not a number"),
        (float("nan"), "number", (), "not finite"),
        (True, "number", (), "not a bool"),
        ("maybe", "boolean", (), "True or False"),
        ("up", "choice", ("left", "right"), "not one of"),
        ("  ", "text", (), "empty"),
        ([1, 2], "", (), "str, int, float or bool"),
    ],
)
def test_bad_answers_raise(value, answer_type, choices, message):
    with pytest.raises(AnswerError, match=message):
        answer.normalize_answer(value, answer_type, choices)


def test_measurement_units_convert_to_si():
    assert Measurement("d", 250, unit="cm").payload["value"] == pytest.approx(2.5)
    angle = Measurement("a", 90, unit="deg", type="angle").payload
    assert angle["value"] == pytest.approx(math.pi / 2) and angle["unit"] == "rad"
    assert Measurement("n", 3, unit="1", type="count").payload["unit"] == "1"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"value": float("inf")}, "finite"),
        ({"value": 1.0, "unit": "parsec"}, "does not fit type 'distance'"),
        ({"value": 1.0, "type": "angle"}, "does not fit type 'angle'"),
        ({"value": -1.0}, "cannot be negative"),
        ({"value": 2.5, "type": "count", "unit": "1"}, "whole number"),
        ({"value": 1.0, "points": [[0, 0]]}, "N×3"),
        ({"value": 1.0, "subjects": "chair"}, "not one string"),
    ],
)
def test_bad_measurements_raise(kwargs, message):
    with pytest.raises(AnswerError, match=message):
        Measurement("d", **kwargs)


def test_object_rotation_matrix_becomes_quaternion():
    c, s = math.cos(math.pi / 4), math.sin(math.pi / 4)
    about_z = [[c, -s, 0], [s, c, 0], [0, 0, 1]]
    quaternion = Object3D("box", (1, 2, 3), rotation=about_z).payload["orientation_xyzw"]
    np.testing.assert_allclose(quaternion, [0, 0, math.sin(math.pi / 8), math.cos(math.pi / 8)], atol=1e-12)


def test_object_rejects_non_rotations():
    with pytest.raises(AnswerError, match="not a rotation matrix"):
        Object3D("box", (0, 0, 0), rotation=np.diag([1.0, 1.0, -1.0]))


def test_trajectory_needs_increasing_stamps():
    with pytest.raises(AnswerError, match="strictly increasing"):
        Trajectory("person", [1.0, 1.0], [[0, 0, 0], [1, 0, 0]])


def test_ids_are_made_unique_and_duplicates_refused():
    payload = {
        "answer": "x",
        "objects": [Object3D("a b", (0, 0, 0)).payload, Object3D("a b", (1, 0, 0)).payload],
    }
    assert [item["id"] for item in validate_payload(payload, "", ())["objects"]] == ["a_b_0", "a_b_1"]
    twice = {"answer": "x", "objects": [Object3D("a", (0, 0, 0), id="k").payload] * 2}
    with pytest.raises(AnswerError, match="used twice"):
        validate_payload(twice, "", ())


def test_host_revalidates_a_forged_payload():
    forged = {
        "answer": "x",
        "measurements": [{"name": "d", "type": "distance", "value": float("nan"), "unit": "m"}],
    }
    with pytest.raises(AnswerError, match="finite"):
        validate_payload(forged, "", ())


def test_return_answer_keeps_the_payload_once():
    answer.expect("number", ())
    assert answer.ReturnAnswer(2, measurements=[Measurement("d", 2.0)]) == "2"
    assert answer.take_pending()["value"] == 2 and answer.take_pending() is None
    with pytest.raises(AnswerError, match="list of Measurement"):
        answer.ReturnAnswer(2, measurements=Measurement("d", 2.0))
    answer.expect("", ())


def test_object_rotation_a_little_off_becomes_the_nearest_unit_quaternion():
    about_x = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])  # 180° about x
    skewed = about_x + 4e-4 * np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    quaternion = np.array(Object3D("box", (0, 0, 0), rotation=skewed).payload["orientation_xyzw"])
    assert np.linalg.norm(quaternion) == pytest.approx(1.0, abs=1e-12)
    assert np.abs(quaternion) == pytest.approx([1.0, 0.0, 0.0, 0.0], abs=1e-3)
