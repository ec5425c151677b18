"""Start the spatial_agent node: ``ros2 launch spatialclaw_ros agent.launch.py [ARG:=VALUE ...]``.

Arguments: namespace (default spatialclaw), params_file (default: the package's config/agent.yaml),
use_sim_time (default false), camera_remaps ("FROM:=TO,..." e.g. "camera/image_raw:=/cam0/color/image_raw"),
start_perception (default false: the node starts its own perception service; true: a separate, respawned
process on perception_socket with perception_settings JSON), vllm_model (default "": none; else also start
`vllm serve MODEL` on 127.0.0.1:vllm_port). What starts comes from
``spatialclaw_ros.ros.launch_spec.agent_nodes``.
"""

from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration

from spatialclaw_ros.ros.launch_actions import launch_actions
from spatialclaw_ros.ros.launch_spec import DEFAULT_PERCEPTION_SOCKET, agent_nodes, parse_flag


def _actions(context):
    def value(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    nodes, processes = agent_nodes(
        namespace=value("namespace"),
        params_file=Path(value("params_file")),
        use_sim_time=parse_flag(value("use_sim_time"), "use_sim_time"),
        camera_remaps=value("camera_remaps"),
        start_perception=parse_flag(value("start_perception"), "start_perception"),
        perception_socket=value("perception_socket"),
        perception_settings=value("perception_settings"),
        vllm_model=value("vllm_model"),
        vllm_port=int(value("vllm_port")),
    )
    return launch_actions(nodes, processes)


def generate_launch_description() -> LaunchDescription:
    """The launch description (ROS 2 installs only: launch is not on PyPI)."""
    share = Path(get_package_share_directory("spatialclaw_ros"))
    return LaunchDescription(
        [
            DeclareLaunchArgument("namespace", default_value="spatialclaw"),
            DeclareLaunchArgument("params_file", default_value=str(share / "config" / "agent.yaml")),
            DeclareLaunchArgument("use_sim_time", default_value="false"),
            DeclareLaunchArgument("camera_remaps", default_value=""),
            DeclareLaunchArgument("start_perception", default_value="false"),
            DeclareLaunchArgument("perception_socket", default_value=DEFAULT_PERCEPTION_SOCKET),
            DeclareLaunchArgument("perception_settings", default_value="{}"),
            DeclareLaunchArgument("vllm_model", default_value=""),
            DeclareLaunchArgument("vllm_port", default_value="8000"),
            OpaqueFunction(function=_actions),
        ]
    )
