"""Which pose source the ingest uses, and the errors of impossible choices."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "ingest_support", Path(__file__).with_name("ingest_support.py")
)
support = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(support)

pytestmark = pytest.mark.ros

TF_AVAILABLE = importlib.util.find_spec("tf2_ros") is not None


def test_auto_picks_the_topic_when_one_is_set():
    with support.ingest_node("/choice_a", ["front"], {"pose.topic": "odom"}) as (_node, buffer, ingest):
        assert ingest.pose_source_name == "topic" and buffer.pose_source is not None


def test_auto_without_a_topic_uses_tf_only_where_installed():
    with support.ingest_node("/choice_b", ["front"]) as (_node, buffer, ingest):
        assert ingest.pose_source_name == ("tf" if TF_AVAILABLE else "none")
        assert (buffer.pose_source is not None) == TF_AVAILABLE


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"pose.source": "gps"}, "pose.source"),
        ({"pose.source": "topic"}, "pose.topic is empty"),
        ({"pose.type": "twist"}, "pose.type"),
        ({"front.T_body_camera": [1.0, 2.0]}, "front.T_body_camera"),
        ({"front.T_color_depth": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]}, "front.T_color_depth"),
    ],
)
def test_impossible_parameters_are_clear_errors(parameters, message):
    with pytest.raises(ValueError, match=message), support.ingest_node("/choice_c", ["front"], parameters):
        pass


@pytest.mark.skipif(TF_AVAILABLE, reason="tf2_ros is installed here")
def test_tf_without_tf2_ros_is_a_clear_error():
    with (
        pytest.raises(ValueError, match="tf2_ros"),
        support.ingest_node("/choice_d", ["front"], {"pose.source": "tf"}),
    ):
        pass
