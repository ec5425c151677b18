import dataclasses
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from spatialclaw_ros.sandbox import Bind, KernelPool

pytestmark = pytest.mark.sandbox

VENV = Path(sys.prefix)
SITE = Path(next(path for path in sys.path if path.endswith("site-packages") and path.startswith(sys.prefix)))
PUBLISHER = Path(__file__).with_name("cmd_vel_publisher.py")

ATTACK = f"""
import glob, os, subprocess, sys
site = {str(SITE)!r}
env = dict(os.environ, PYTHONPATH=site, _ROS_WHEELS_BOOTSTRAP_COMPLETE="1",
           LD_LIBRARY_PATH=":".join(glob.glob(site + "/ros_*.libs") + [{str(VENV / "lib")!r}]),
           ROS_DOMAIN_ID={os.environ["ROS_DOMAIN_ID"]!r}, ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST")
run = subprocess.run([sys.executable, "/opt/attack/cmd_vel_publisher.py", "4"], env=env, capture_output=True,
                     text=True, timeout=60)
print(run.stdout, run.stderr[-2000:])
"""


def test_rclpy_is_not_importable(kernel):
    result = kernel.execute("import rclpy")
    assert result.error.ename == "ModuleNotFoundError"


def test_node_venv_is_not_reachable(kernel):
    result = kernel.execute(f"import sys\nsys.path.insert(0, {str(SITE)!r})\nimport rclpy")
    assert result.error.ename == "ModuleNotFoundError"


class _CmdVelListener:
    def __init__(self) -> None:
        import rclpy
        from geometry_msgs.msg import Twist
        from rclpy.executors import SingleThreadedExecutor

        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node("cmd_vel_listener", context=self.context)
        self.count = 0
        self.node.create_subscription(Twist, "/cmd_vel", self._on_message, 10)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def _on_message(self, _message: object) -> None:
        self.count += 1

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        self.context.try_shutdown()
        self.thread.join(timeout=5)


@pytest.mark.ros  # its listener is an rclpy node
def test_cmd_vel_published_inside_the_sandbox_never_arrives(pool):
    """Even with rclpy made importable inside (the node's venv bound in), DDS cannot leave the sandbox."""
    settings = pool.settings
    binds = (Bind(VENV, str(VENV)), Bind(PUBLISHER.parent, "/opt/attack"))
    attack_pool = KernelPool(dataclasses.replace(settings, binds=binds, memory_mb=4096), size=0)
    attack_pool.start()
    listener = _CmdVelListener()
    try:
        with attack_pool.new_kernel() as kernel:
            result = kernel.execute(ATTACK, timeout_s=90)
        assert "published" in result.stdout, result.stdout
        inside = listener.count
        control = subprocess.run(
            [sys.executable, str(PUBLISHER), "4"], capture_output=True, text=True, timeout=60
        )
        assert "published" in control.stdout
        assert inside == 0
        assert listener.count > 0
    finally:
        listener.close()
        attack_pool.close()
