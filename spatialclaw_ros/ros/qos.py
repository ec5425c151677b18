"""The QoS profiles the package's own latched topics share."""

from __future__ import annotations

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

#: Reliable, transient-local, depth 1: a late subscriber still gets the last message (answers, the
#: debug image, points, label maps, the simulator's ground truth).
LATCHED_QOS = QoSProfile(
    depth=1,
    history=HistoryPolicy.KEEP_LAST,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
