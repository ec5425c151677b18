"""The settings tree parses a flat mapping once: types, ranges, choices, checks, per-camera sections."""

from __future__ import annotations

import math

import pytest

from spatialclaw_ros.settings import CameraSection, NodeSettings, SettingsError, flatten, leaves, parse


def test_an_empty_mapping_gives_every_default():
    settings = parse(NodeSettings, {})
    assert settings == NodeSettings()
    assert settings.agent.timeout_s == 120.0 and settings.kernel.sandbox == "strict"
    assert dict(settings.camera) == {"camera": CameraSection()}


def test_values_reach_their_sections_and_yaml_integers_become_floats():
    settings = parse(
        NodeSettings,
        {"cameras": ["front", "rear"], "agent.timeout_s": 30, "buffer.keyframe_hz": 5, "front.depth": False},
    )
    assert settings.cameras == ("front", "rear")
    assert settings.agent.timeout_s == 30.0 and isinstance(settings.agent.timeout_s, float)
    assert settings.buffer.keyframe_hz == 5.0
    assert settings.camera["front"].depth == "false" and settings.camera["rear"].depth == "auto"


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"kernel.sandbox": "loose"}, "kernel.sandbox must be one of strict, off"),
        ({"cameras": []}, "at least one camera"),
        ({"cameras": ["front", "front"]}, "unique"),
        ({"cameras": ["/front"]}, "relative"),
        ({"llm.base_url": "localhost:8000"}, "llm.base_url: must be an http(s) URL"),
        ({"agent.max_steps": 0}, "agent.max_steps must be in [1 to 100]"),
        ({"agent.max_steps": 2.5}, "agent.max_steps must be an integer"),
        ({"agent.timeout_s": math.inf}, "agent.timeout_s must be a finite number"),
        ({"agent.planning": "yes"}, "agent.planning must be true or false"),
        ({"output.points_stride": True}, "output.points_stride must be an integer"),
        ({"camera.depth": "sometimes"}, "camera.depth must be one of auto, true, false"),
        ({"camera.T_body_camera": [0.0, 1.0]}, "camera.T_body_camera: must be [x, y, z, qx, qy, qz, qw]"),
        ({"camera.T_body_camera": ["a"] * 7}, "camera.T_body_camera must be a list of numbers"),
        ({"pose.type": "twist"}, "pose.type must be one of odometry, pose_stamped"),
    ],
)
def test_a_bad_value_is_refused_naming_the_parameter(values, fragment):
    with pytest.raises(SettingsError) as refused:
        parse(NodeSettings, values)
    assert fragment in str(refused.value)


def test_words_of_a_boolean_knob_are_normalised():
    settings = parse(NodeSettings, {"camera.depth": " TRUE "})
    assert settings.camera["camera"].depth == "true"


def test_unset_arrays_are_the_empty_default_and_set_ones_become_float_tuples():
    settings = parse(
        NodeSettings, {"camera.T_body_camera": None, "camera.T_color_depth": [0, 0, 0.1, 0, 0, 0, 1]}
    )
    assert settings.camera["camera"].T_body_camera == ()
    assert settings.camera["camera"].T_color_depth == (0.0, 0.0, 0.1, 0.0, 0.0, 0.0, 1.0)


def test_camera_sections_of_unknown_cameras_are_refused():
    with pytest.raises(SettingsError, match="not in cameras"):
        NodeSettings(cameras=("front",), camera={"rear": CameraSection()})


def test_flatten_turns_nested_mappings_into_dotted_names():
    assert flatten({"a": 1, "llm": {"model": "m", "x": {"y": [1]}}}) == {
        "a": 1,
        "llm.model": "m",
        "llm.x.y": [1],
    }


def test_every_knob_has_a_doc_a_default_of_its_type_and_consistent_limits():
    for leaf in [*leaves(NodeSettings), *leaves(CameraSection, "NAME.")]:
        assert leaf.knob.doc.endswith("."), leaf.name
        if leaf.knob.choices:
            assert leaf.default in leaf.knob.choices, leaf.name
        if leaf.knob.minimum is not None:
            assert leaf.knob.minimum <= leaf.default <= leaf.knob.maximum, leaf.name
