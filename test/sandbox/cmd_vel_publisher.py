"""Publishes geometry_msgs/Twist on /cmd_vel for argv[1] seconds, then prints how many it sent."""

import sys
import time

import rclpy
from geometry_msgs.msg import Twist

rclpy.init()
node = rclpy.create_node("cmd_vel_attacker")
publisher = node.create_publisher(Twist, "/cmd_vel", 10)
sent = 0
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    message = Twist()
    message.linear.x = 1.0
    publisher.publish(message)
    sent += 1
    time.sleep(0.05)
print("published", sent, flush=True)
node.destroy_node()
rclpy.shutdown()
