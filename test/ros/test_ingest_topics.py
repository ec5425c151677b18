"""Ingest subscriptions: resolved topic names, what is still waiting, QoS overrides, stop, bad messages."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from rclpy.qos import ReliabilityPolicy

from support.ros_processes import REPO_ROOT, running
from support.ros_spin import wait_until

_spec = importlib.util.spec_from_file_location(
    "ingest_support", Path(__file__).with_name("ingest_support.py")
)
support = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(support)

pytestmark = pytest.mark.ros

CONFIG = {
    "namespace": "/ingest_topics",
    "rate_hz": 20.0,
    "t0": 0.0,
    "cameras": {
        "front": {"width": 16, "height": 12, "encoding": "rgb8"},
        "broken": {"width": 16, "height": 12, "encoding": "rgb8", "bad": "short_data"},
    },
}
ALL_TOPICS = [
    "/ingest_topics/front/image_raw",
    "/ingest_topics/front/camera_info",
    "/ingest_topics/front/depth/image_raw",
    "/ingest_topics/front/depth/camera_info",
    "/ingest_topics/broken/image_raw",
    "/ingest_topics/broken/camera_info",
]
# A reliable subscription cannot hear the publisher's best-effort camera_info: it must keep waiting.
RELIABLE = "qos_overrides./ingest_topics/broken/camera_info.subscription.reliability"
NEVER_DELIVERED = sorted(t for t in ALL_TOPICS if "/depth/" in t or t == "/ingest_topics/broken/camera_info")


@pytest.fixture(scope="module")
def ingest():
    with support.ingest_node(
        # front: depth auto (the default) subscribes to the depth topics; broken: "false" never does.
        CONFIG["namespace"],
        ["front", "broken"],
        {"broken.depth": "false", RELIABLE: "reliable"},
    ) as harness:
        yield harness


def test_every_topic_waits_before_anything_is_published(ingest):
    assert sorted(ingest[2].waiting_topics()) == sorted(ALL_TOPICS)


def test_qos_defaults_to_sensor_data_and_is_overridable(ingest):
    node = ingest[0]
    image_qos = node.get_subscriptions_info_by_topic("/ingest_topics/front/image_raw")[0].qos_profile
    info_qos = node.get_subscriptions_info_by_topic("/ingest_topics/broken/camera_info")[0].qos_profile
    assert image_qos.reliability == ReliabilityPolicy.BEST_EFFORT
    assert info_qos.reliability == ReliabilityPolicy.RELIABLE
    assert node.get_parameter("qos_overrides./ingest_topics/front/image_raw.subscription.depth").value == 5


def test_published_topics_stop_waiting_and_bad_messages_are_rejected(ingest):
    _node, buffer, camera_ingest = ingest
    with running(support.publisher_command(CONFIG, REPO_ROOT), name="ingest_topics_publisher"):
        wait_until(
            lambda: (
                "broken" in buffer.stats()
                and buffer.stats()["broken"].rejected >= 3
                and buffer.stats().get("front")
            ),
            30.0,
            "frames from both cameras",
        )
        wait_until(
            lambda: len(camera_ingest.waiting_topics()) == 3, 10.0, "the delivered topics to stop waiting"
        )
    assert sorted(camera_ingest.waiting_topics()) == NEVER_DELIVERED
    broken = buffer.stats()["broken"]
    assert broken.kept == 0 and broken.rejected == broken.received
    assert "'broken'" in broken.last_error and "data" in broken.last_error
    assert buffer.cameras_with_frames() == {"front"}


def test_stop_removes_the_subscriptions(ingest):
    node, _buffer, camera_ingest = ingest
    camera_ingest.stop()
    try:
        wait_until(lambda: node.count_subscribers("/ingest_topics/front/image_raw") == 0, 10.0, "unsubscribe")
        assert camera_ingest.waiting_topics() == []
    finally:
        camera_ingest.start()
    wait_until(lambda: node.count_subscribers("/ingest_topics/front/image_raw") == 1, 10.0, "resubscribe")
