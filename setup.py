"""spatialclaw_ros for pip users: the ROS-free rooms, the console scripts and the extras.

ROS 2 builds use package.xml + CMakeLists.txt (ament_cmake, with the generated interfaces); colcon
identifies the package by package.xml and does not run this file. Here, the generated msg/srv/action
modules come from the colcon install space (scripts/setup.sh builds it).
"""

from pathlib import Path

from setuptools import find_packages, setup


def requirements(name: str) -> list[str]:
    """The requirement lines of requirements/NAME.txt (comments dropped)."""
    lines = (Path(__file__).parent / "requirements" / f"{name}.txt").read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


setup(
    name="spatialclaw_ros",
    version="0.1.0",
    description="Answers spatial questions about what a robot's cameras see.",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["spatialclaw_ros", "spatialclaw_ros.*"]),
    package_data={"spatialclaw_ros": ["agent/prompts/*.txt", "agent/prompts/*.md"]},
    install_requires=requirements("runtime"),
    extras_require={
        "perception": requirements("perception"),
        "dev": requirements("dev"),
    },
    entry_points={"console_scripts": ["spatialclaw = spatialclaw_ros.cli:main"]},
)
