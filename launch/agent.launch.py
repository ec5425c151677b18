"""Start the spatial_agent node: ``ros2 launch spatialclaw_ros agent.launch.py [ARG:=VALUE ...]``.

Arguments: namespace (default spatialclaw), params_file (default: the package's config/agent.yaml),
use_sim_time (default false), camera_remaps ("FROM:=TO,..." e.g. "camera/image_raw:=/cam0/color/image_raw").
The node list itself comes from ``spatialclaw_ros.ros.launch_spec.agent_nodes``.
"""

from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from spatialclaw_ros.ros.launch_spec import agent_nodes


def _nodes(context):
    def value(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    specs = agent_nodes(
        namespace=value("namespace"),
        params_file=Path(value("params_file")),
        use_sim_time=value("use_sim_time").lower() in ("true", "1"),
        camera_remaps=value("camera_remaps"),
    )
    return [
        Node(
            package=spec.package,
            executable=spec.executable,
            name=spec.name,
            namespace=spec.namespace,
            parameters=list(spec.parameters),
            remappings=list(spec.remappings),
            output=spec.output,
        )
        for spec in specs
    ]


def generate_launch_description() -> LaunchDescription:
    """The launch description (ROS 2 installs only: launch is not on PyPI)."""
    share = Path(get_package_share_directory("spatialclaw_ros"))
    return LaunchDescription(
        [
            DeclareLaunchArgument("namespace", default_value="spatialclaw"),
            DeclareLaunchArgument("params_file", default_value=str(share / "config" / "agent.yaml")),
            DeclareLaunchArgument("use_sim_time", default_value="false"),
            DeclareLaunchArgument("camera_remaps", default_value=""),
            OpaqueFunction(function=_nodes),
        ]
    )
