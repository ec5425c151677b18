"""demo.launch.py's node list, checked without ``ros2 launch``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spatialclaw_ros.geometry import make_transform
from spatialclaw_ros.ros.launch_spec import demo_nodes, demo_scene

PARAMS = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"


def test_demo_starts_the_publisher_and_the_agent_on_one_scene():
    sim, agent = demo_nodes(namespace="demo", params_file=PARAMS, seed=3, cameras=3, noise=True)
    assert (sim.executable, agent.executable) == ("sim_camera_publisher", "spatial_agent")
    assert sim.namespace == agent.namespace == "demo"
    assert sim.parameters[0] == agent.parameters[0] == str(PARAMS)
    assert sim.parameters[1]["scene.seed"] == 3 and sim.parameters[1]["depth.noise"] is True
    assert sim.parameters[1]["cameras"] == agent.parameters[1]["cameras"] == ["cam0", "cam1", "cam2"]
    assert agent.parameters[1]["pose.topic"] == "cam0/pose"
    assert all(
        agent.parameters[1][f"cam{k}.labels"] and agent.parameters[1][f"cam{k}.depth"] for k in range(3)
    )
    # Both ends of every image stream ask for reliable delivery (or they would not match).
    for spec, endpoint in ((sim, "publisher"), (agent, "subscription")):
        overrides = spec.parameters[2]
        assert len(overrides) == 9 and set(overrides.values()) == {"reliable"}
        assert overrides[f"qos_overrides./demo/cam2/depth/image_raw.{endpoint}.reliability"] == "reliable"


def test_rig_extrinsics_put_every_camera_where_the_scene_has_it():
    (_, agent) = demo_nodes(namespace="demo", params_file=PARAMS, seed=5, cameras=4)
    scene = demo_scene(PARAMS, seed=5, cameras=4)
    T_world_body = scene.cameras[0].T_world_camera(0.0)
    for camera in scene.cameras:
        x, y, z, *quaternion = agent.parameters[1][f"{camera.name}.T_body_camera"]
        T_body_camera = make_transform(np.array(quaternion), [x, y, z])
        np.testing.assert_allclose(T_world_body @ T_body_camera, camera.T_world_camera(0.0), atol=1e-9)


@pytest.mark.parametrize("cameras", [0, 9])
def test_camera_count_outside_the_simulator_range_is_refused(cameras):
    with pytest.raises(ValueError, match="1 to 8 cameras"):
        demo_nodes(namespace="demo", params_file=PARAMS, cameras=cameras)
