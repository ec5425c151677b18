"""Start the simulated demo rig and the agent: ``ros2 launch spatialclaw_ros demo.launch.py [ARG:=VALUE]``.

Arguments: namespace (default spatialclaw), params_file (default: the package's config/demo.yaml), seed
(scene seed, default 0), cameras (number of cameras, 1 to 8, default 4), noise (depth sensor noise, default
false), use_sim_time (default false). The node list comes from ``spatialclaw_ros.ros.launch_spec.demo_nodes``;
ask questions with ``spatialclaw ask --agent /spatialclaw/spatial_agent ...`` or run ``spatialclaw demo``
for the scripted questions.
"""

from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration

from spatialclaw_ros.ros.launch_actions import launch_actions
from spatialclaw_ros.ros.launch_spec import demo_nodes, parse_flag


def _nodes(context):
    def value(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    specs = demo_nodes(
        namespace=value("namespace"),
        params_file=Path(value("params_file")),
        seed=int(value("seed")),
        cameras=int(value("cameras")),
        noise=parse_flag(value("noise"), "noise"),
        use_sim_time=parse_flag(value("use_sim_time"), "use_sim_time"),
    )
    return launch_actions(specs)


def generate_launch_description() -> LaunchDescription:
    """The launch description (ROS 2 installs only: launch is not on PyPI)."""
    share = Path(get_package_share_directory("spatialclaw_ros"))
    return LaunchDescription(
        [
            DeclareLaunchArgument("namespace", default_value="spatialclaw"),
            DeclareLaunchArgument("params_file", default_value=str(share / "config" / "demo.yaml")),
            DeclareLaunchArgument("seed", default_value="0"),
            DeclareLaunchArgument("cameras", default_value="4"),
            DeclareLaunchArgument("noise", default_value="false"),
            DeclareLaunchArgument("use_sim_time", default_value="false"),
            OpaqueFunction(function=_nodes),
        ]
    )
