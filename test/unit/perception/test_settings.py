import pytest

from spatialclaw_ros.perception import PerceptionSettings


def test_json_round_trip():
    settings = PerceptionSettings(
        segmenter="labels", label_map=((3, "door"),), da3_depth_overrides=("net.name=vits",)
    )
    assert PerceptionSettings.from_json(settings.to_json()) == settings


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("segmenter", "yolo", "perception.segmenter"),
        ("depth", "lidar", "perception.depth"),
        ("da3_process_res_px", 500, "multiple of 14"),
        ("min_score", 1.5, "min_score"),
        ("call_timeout_s", 0, "call_timeout_s"),
    ],
)
def test_bad_values_name_the_setting(field, value, message):
    with pytest.raises(ValueError, match=message):
        PerceptionSettings(**{field: value})


def test_every_backend_name_a_setting_offers_has_a_factory():
    from spatialclaw_ros.perception._backends import BACKENDS
    from spatialclaw_ros.settings import DEPTH_BACKENDS, RECONSTRUCTORS, SEGMENTERS

    offered = {"segmenter": SEGMENTERS, "depth": DEPTH_BACKENDS, "reconstructor": RECONSTRUCTORS}
    for capability, names in offered.items():
        assert {*BACKENDS[capability], "none"} == set(names), capability
