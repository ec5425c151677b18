"""agent.launch.py's node list, checked without ``ros2 launch``."""

from __future__ import annotations

from pathlib import Path

import pytest

from spatialclaw_ros.ros.launch_spec import agent_nodes, parse_remaps


def test_agent_node_gets_params_file_sim_time_and_remaps():
    (spec,) = agent_nodes(
        namespace="spatialclaw",
        params_file=Path("/opt/share/agent.yaml"),
        use_sim_time=True,
        camera_remaps="camera/image_raw:=/cam0/color/image_raw, camera/camera_info:=/cam0/color/camera_info",
    )
    assert (spec.package, spec.executable, spec.name, spec.namespace) == (
        "spatialclaw_ros",
        "spatial_agent",
        "spatial_agent",
        "spatialclaw",
    )
    assert spec.parameters[:2] == ("/opt/share/agent.yaml", {"use_sim_time": True})
    assert spec.remappings == (
        ("camera/image_raw", "/cam0/color/image_raw"),
        ("camera/camera_info", "/cam0/color/camera_info"),
    )


@pytest.mark.parametrize("text", ["camera/image_raw", "camera/image_raw:=", ":=/x"])
def test_malformed_remap_is_refused(text):
    with pytest.raises(ValueError, match="FROM:=TO"):
        parse_remaps(text)
