"""spatialclaw_ros: answers spatial questions about what a robot's cameras see.

Rooms (each a sub-package with one job):

- ``frames``: image/depth codecs, the camera frame buffer and query snapshots (no ROS).
- ``sandbox``: sandboxed Jupyter kernels, their warm pool and cell execution (no ROS).
- ``runtime``: what the kernel imports: frames view, tool proxies, ``show``, ``ReturnAnswer``.
- ``agent``: the code-as-action loop, its prompts and VLM client, traces (no ROS).
- ``perception``: segmentation/depth/reconstruction backends and their service (no ROS).
- ``geometry``: cameras, transforms, point clouds, boxes, planes (pure numpy).
- ``ros``: the node, parameters, message conversions, markers, planner client (rclpy only here).
- ``sim``: synthetic scenes with exact ground truth and a camera publisher.

The generated ``msg``, ``srv`` and ``action`` modules join this package when it is built
with colcon.
"""

import pkgutil

# The generated msg/srv/action modules live in the colcon install space. When the source tree comes
# first on sys.path (tests, development), this lets the package span both directories.
__path__ = pkgutil.extend_path(__path__, __name__)

__version__ = "0.1.0"
