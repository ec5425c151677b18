"""agent.launch.py's node list, checked without ``ros2 launch``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from spatialclaw_ros.ros.launch_spec import agent_nodes, parse_flag, parse_remaps

REPO = Path(__file__).resolve().parents[2]


def test_agent_node_gets_params_file_sim_time_and_remaps():
    (spec,), processes = agent_nodes(
        namespace="spatialclaw",
        params_file=Path("/opt/share/agent.yaml"),
        use_sim_time=True,
        camera_remaps="camera/image_raw:=/cam0/color/image_raw, camera/camera_info:=/cam0/color/camera_info",
    )
    assert processes == (), "by default the node starts its own perception service and no vLLM"
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


def test_separate_perception_service_and_vllm_are_started_and_wired(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-launching-shell")
    (spec,), processes = agent_nodes(
        namespace="spatialclaw",
        params_file=Path("/opt/share/agent.yaml"),
        use_sim_time=False,
        start_perception=True,
        perception_socket="/run/spatialclaw/p.sock",
        perception_settings='{"segmenter": "labels"}',
        vllm_model="Qwen/Qwen3-VL-8B-Instruct",
        vllm_port=8100,
    )
    perception, vllm = processes
    assert perception.command[-4:] == (
        "--socket",
        "/run/spatialclaw/p.sock",
        "--settings",
        '{"segmenter": "labels"}',
    )
    assert perception.respawn
    assert "OPENAI_API_KEY" not in perception.env and "PATH" in perception.env
    assert vllm.command[:3] == ("vllm", "serve", "Qwen/Qwen3-VL-8B-Instruct") and "8100" in vllm.command
    assert spec.parameters[2] == {
        "perception.url": "unix:///run/spatialclaw/p.sock",
        "llm.base_url": "http://127.0.0.1:8100/v1",
        "llm.model": "Qwen/Qwen3-VL-8B-Instruct",
    }


def test_overrides_come_last():
    (spec,), _ = agent_nodes(
        namespace="ns",
        params_file=Path("/a.yaml"),
        use_sim_time=False,
        vllm_model="m",
        overrides={"llm.model": "other"},
    )
    assert spec.parameters[-1] == {"llm.model": "other"}


def test_relative_perception_socket_is_refused():
    with pytest.raises(ValueError, match="absolute"):
        agent_nodes(
            namespace="ns",
            params_file=Path("/a.yaml"),
            use_sim_time=False,
            start_perception=True,
            perception_socket="p.sock",
        )


@pytest.mark.parametrize(
    ("text", "value"), [("true", True), (" True", True), ("1", True), ("no", False), ("FALSE", False)]
)
def test_flags_read_as_ros2_launch_users_write_them(text, value):
    assert parse_flag(text, "use_sim_time") is value


def test_a_flag_that_is_neither_true_nor_false_is_refused():
    with pytest.raises(ValueError, match="use_sim_time:='ture' must be true or false"):
        parse_flag("ture", "use_sim_time")


def _top_level_names(source: Path) -> set[str]:
    names = set()
    for node in ast.parse(source.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
    return names


@pytest.mark.parametrize(
    "launch_file", sorted((REPO / "launch").glob("*.launch.py")), ids=lambda path: path.name
)
def test_launch_files_use_names_the_package_defines(launch_file):
    """The launch files cannot run here (launch is not on PyPI): check what they take from the package."""
    for statement in ast.parse(launch_file.read_text()).body:
        if isinstance(statement, ast.ImportFrom) and statement.module.startswith("spatialclaw_ros."):
            module = REPO / (statement.module.replace(".", "/") + ".py")
            missing = {alias.name for alias in statement.names} - _top_level_names(module)
            assert not missing, f"{launch_file.name} imports {missing} from {statement.module}"
