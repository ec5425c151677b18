"""rclpy executor cost per message against the number of subscriptions the node holds.

Prints one JSON line: for each count of idle subscriptions (topics nobody publishes), the messages
per second a SingleThreadedExecutor delivers from one busy topic published at ``--rate`` Hz in the
same process, the node's CPU % and CPU microseconds per delivered message; the node holding no idle
subscription is the baseline. rclpy rebuilds its wait set from every entity of its nodes each time
it waits, so a node's per-message cost grows with everything it holds: this is why the accuracy
survey gives each scene its own agent, and what to expect from a node that ingests many cameras.

    python bench/executor.py --counts 0 48 192 960 --rate 160 --duration 10
    python bench/executor.py --quick    # counts 0 and 48, 1 s each (a few seconds: the test suite runs it)

JSON fields (the last line of stdout):
- ``benchmark``: "executor"
- ``config.rate_hz``: Hz, messages published per second on the busy topic
- ``config.duration_s``: s, measured per count
- ``cpu_count``: cores of the machine
- ``baseline.idle_subscriptions``: count, 0 (the node holding no idle subscription)
- ``baseline.delivered_hz``: Hz, messages the executor delivered per second
- ``baseline.cpu_percent``: %, the node process's CPU (user + system) over the measured time
- ``baseline.cpu_us_per_message``: µs, CPU time per delivered message
- ``runs[].idle_subscriptions``: count, idle subscriptions the node holds
- ``runs[].delivered_hz``: Hz, as for the baseline
- ``runs[].cpu_percent``: %, as for the baseline
- ``runs[].cpu_us_per_message``: µs, as for the baseline
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[0, 48, 192, 960])
    parser.add_argument("--rate", type=float, default=160.0, help="messages per second on the busy topic")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per count")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--quick", action="store_true", help="counts 0 and 48, 1 s each after 0.5 s warm-up")
    parser.add_argument("--idle", type=int, default=-1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.counts, args.duration, args.warmup = [0, 48], 1.0, 0.5
    return args


def measure(idle: int, rate_hz: float, duration_s: float, warmup_s: float) -> dict[str, float]:
    """Run one node with ``idle`` idle subscriptions and one busy one; its delivery rate and CPU cost."""
    import psutil
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from std_msgs.msg import String

    rclpy.init()
    node = rclpy.create_node("bench_executor")
    for index in range(idle):
        node.create_subscription(String, f"idle_{index}", lambda _message: None, 5)
    delivered = [0]
    node.create_subscription(String, "busy", lambda _message: delivered.__setitem__(0, delivered[0] + 1), 50)
    publisher = rclpy.create_node("bench_executor_publisher").create_publisher(String, "busy", 50)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    threading.Thread(target=executor.spin, daemon=True).start()
    stop = threading.Event()

    def publish() -> None:
        message = String(data="tick")
        while not stop.wait(1.0 / rate_hz):
            publisher.publish(message)

    threading.Thread(target=publish, daemon=True).start()
    time.sleep(warmup_s)
    process = psutil.Process()
    cpu0, count0 = sum(process.cpu_times()[:2]), delivered[0]
    time.sleep(duration_s)
    cpu_s, count = sum(process.cpu_times()[:2]) - cpu0, delivered[0] - count0
    stop.set()
    return {
        "idle_subscriptions": idle,
        "delivered_hz": round(count / duration_s, 1),
        "cpu_percent": round(100.0 * cpu_s / duration_s, 1),
        "cpu_us_per_message": round(1e6 * cpu_s / max(count, 1)),
    }


def main() -> None:
    args = parse_args()
    if args.idle >= 0:
        print(json.dumps(measure(args.idle, args.rate, args.duration, args.warmup)), flush=True)
        os._exit(0)  # the spinning threads are daemons; skip rclpy's shutdown of a busy executor
    env = dict(os.environ, ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST")
    env.setdefault("ROS_DOMAIN_ID", str(random.randint(150, 230)))
    runs = []
    for idle in args.counts:
        command = [sys.executable, __file__, "--idle", str(idle), *sys.argv[1:]]
        output = subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=300)
        runs.append(json.loads(output.stdout.strip().splitlines()[-1]))
    baseline = min(runs, key=lambda run: run["idle_subscriptions"])
    print(
        json.dumps(
            {
                "benchmark": "executor",
                "config": {"rate_hz": args.rate, "duration_s": args.duration},
                "cpu_count": os.cpu_count(),
                "baseline": baseline,
                "runs": [run for run in runs if run is not baseline],
            }
        )
    )


if __name__ == "__main__":
    main()
