"""Ingest benchmark: N camera publisher processes → one node process running CameraIngest + FrameBuffer.

Prints one JSON line: per-frame callback cost, dropped frames, node CPU % and RSS while ingesting,
the time to write a 32-frame snapshot while ingest goes on, and two baselines measured in the same
run: for ingest, the same node with bare raw subscriptions whose callbacks do nothing (the rclpy +
DDS + executor floor that ingest adds to); for the snapshot, a plain copy of the same bytes (the
decoded arrays of the first snapshot, held in memory, written with ``np.save`` into a fresh
directory, what every snapshot paid before the cache). Snapshots and copies alternate, so both see
the same load. The first snapshot finds the snapshot cache cold and decodes every frame; later ones
link the key frames that the cache's background warming decoded meanwhile and decode only the
rest (each camera's latest frame, key frames newer than the last warming round); snapshots are
``--snapshot-interval`` apart, as queries would be. ``--executor`` picks the node's executor (the
agent node spins a SingleThreadedExecutor; ``multi`` measures rclpy's MultiThreadedExecutor, which
costs about twice the CPU per frame).

    python bench/ingest.py --cameras 4 --rate 30 --width 1280 --height 720 --duration 30
    python bench/ingest.py --quick     # a few seconds: 1 small camera, short windows

JSON fields, one per line: name [unit]: meaning (``null`` where nothing was measured).
- ``benchmark`` [name]: "ingest"
- ``config`` [object]: the arguments
- ``cpu_count`` [cores]
- ``publishers_rate_hz`` [Hz]: frames each publisher sent per second
- ``ingest.node_cpu_percent`` [% of one core]: node CPU while ingesting
- ``ingest.node_cpu_us_per_frame`` [µs]: node CPU per received image
- ``ingest.frames_received`` [frames]: colour and depth images received
- ``ingest.frames_lost`` [frames]: gaps in the publishers' stamps
- ``ingest.lost_percent`` [%]
- ``ingest.received_hz`` [Hz]
- ``ingest.callback_us_mean`` [µs]: FrameBuffer add per image
- ``ingest.callback_us_p50`` [µs]
- ``ingest.callback_us_p99`` [µs]
- ``ingest.rss_mb_end`` [MiB]
- ``ingest.rss_mb_peak`` [MiB]
- ``ingest.buffer_mb`` [MiB]: payload the buffer holds
- ``ingest.kept_frames`` [frames]
- ``ingest.rejected`` [messages]
- ``snapshot.frames`` [frames]: frames of one snapshot
- ``snapshot.ms`` [ms]: each snapshot's write time
- ``snapshot.ms_first`` [ms]: the first snapshot (cold cache)
- ``snapshot.ms_median`` [ms]: median of all snapshots
- ``snapshot.ms_warm_median`` [ms]: median of all but the first
- ``snapshot.arrays_decoded`` [arrays]: per snapshot, arrays decoded (new to the cache)
- ``snapshot.arrays_linked`` [arrays]: per snapshot, arrays hard-linked from the cache
- ``snapshot.arrays_copied`` [arrays]: per snapshot, arrays copied from the cache (linking failed)
- ``snapshot.mb_written`` [MiB]: arrays one snapshot holds
- ``snapshot.cache_mb`` [MiB]: files in the snapshot cache at the end
- ``snapshot.node_cpu_percent_warming`` [% of one core]: node CPU after the snapshots, ingest and
  cache warming going on (against ``ingest.node_cpu_percent``: the warming's cost)
- ``baseline_copy.ms`` [ms]: each plain copy of the first snapshot's arrays
- ``baseline_copy.ms_median`` [ms]
- ``baseline_bare_subscriptions.node_cpu_percent`` [% of one core]
- ``baseline_bare_subscriptions.node_cpu_us_per_frame`` [µs]
- ``baseline_bare_subscriptions.frames_received`` [frames]
- ``baseline_bare_subscriptions.received_hz`` [Hz]

Each publisher stamps its frames ``t0 + seq / rate`` so the node counts lost frames from stamp
gaps. ``--qos reliable`` (default) overrides the sensor-data reliability on both sides through the
node's ``qos_overrides`` parameters: with Fast DDS defaults, best-effort multi-megabyte images are
mostly lost to fragmentation on a loaded machine (``--qos best_effort`` measures that).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
NS = 1_000_000_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--rate", type=float, default=30.0, help="frames per second per camera")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--no-depth", dest="depth", action="store_false", help="colour only (no 16UC1 depth)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of measured ingest")
    parser.add_argument("--baseline-duration", type=float, default=10.0, help="seconds of the bare baseline")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--keyframe-hz", type=float, default=2.0)
    parser.add_argument("--history-s", type=float, default=60.0)
    parser.add_argument("--max-memory-mb", type=float, default=1024.0)
    parser.add_argument("--snapshot-frames", type=int, default=32)
    parser.add_argument("--snapshots", type=int, default=5, help="snapshots taken (each followed by a copy)")
    parser.add_argument(
        "--snapshot-interval", type=float, default=3.0, help="seconds from one snapshot to the next (queries)"
    )
    parser.add_argument(
        "--snapshot-dir",
        default=None,
        help="where snapshots and their cache go (default: the system temporary directory, as the sandbox's "
        "work_dir); e.g. a tmpfs",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a few seconds in all: 1 camera of 320×240 at 10 Hz, 1 s windows, 4-frame snapshots",
    )
    parser.add_argument("--qos", choices=("reliable", "best_effort"), default="reliable")
    parser.add_argument(
        "--executor",
        choices=("multi", "single"),
        default="single",
        help="single: SingleThreadedExecutor, as the agent node spins; multi: MultiThreadedExecutor(4)",
    )
    parser.add_argument(
        "--role", choices=("main", "node", "publisher"), default="main", help=argparse.SUPPRESS
    )
    parser.add_argument("--camera", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.cameras, args.rate, args.width, args.height = 1, 10.0, 320, 240
        args.duration, args.baseline_duration, args.warmup = 1.0, 1.0, 0.5
        args.snapshot_frames, args.snapshots, args.snapshot_interval = 4, 3, 0.6
    return args


def camera_names(count: int) -> list[str]:
    return [f"cam{i}" for i in range(count)]


def sensor_qos(reliability: str) -> Any:
    from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data

    return QoSProfile(
        history=qos_profile_sensor_data.history,
        depth=qos_profile_sensor_data.depth,
        reliability=ReliabilityPolicy.RELIABLE
        if reliability == "reliable"
        else ReliabilityPolicy.BEST_EFFORT,
        durability=qos_profile_sensor_data.durability,
    )


# ---------------------------------------------------------------------------------------------- publisher


def run_publisher(args: argparse.Namespace) -> None:
    import numpy as np
    import rclpy
    from builtin_interfaces.msg import Time
    from sensor_msgs.msg import CameraInfo, Image

    from spatialclaw_ros.frames import depth_to_image, numpy_to_image

    rclpy.init()
    node = rclpy.create_node(f"bench_publisher_{args.camera}")
    qos = sensor_qos(args.qos)
    name = args.camera
    image_pub = node.create_publisher(Image, f"{name}/image_raw", qos)
    info_pub = node.create_publisher(CameraInfo, f"{name}/camera_info", qos)
    depth_pub = node.create_publisher(Image, f"{name}/depth/image_raw", qos) if args.depth else None
    depth_info_pub = (
        node.create_publisher(CameraInfo, f"{name}/depth/camera_info", qos) if args.depth else None
    )
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    shape = (args.height, args.width)
    images = [
        Image(**numpy_to_image(rng.integers(0, 256, (*shape, 3), dtype=np.uint8), "rgb8").as_kwargs())
        for _ in range(3)
    ]
    depths = [
        Image(**depth_to_image(rng.uniform(0.3, 8.0, shape).astype(np.float32)).as_kwargs()) for _ in range(3)
    ]
    k = [float(args.width), 0.0, args.width / 2, 0.0, float(args.width), args.height / 2, 0.0, 0.0, 1.0]
    info = CameraInfo(width=args.width, height=args.height, k=k)
    info.header.frame_id = f"{name}_optical"
    for message in images + depths:
        message.header.frame_id = f"{name}_optical"
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    period_ns = int(NS / args.rate)
    t0 = time.time_ns()
    seq = 0
    while not stop.is_set():
        deadline = t0 + seq * period_ns
        delay = (deadline - time.time_ns()) / NS
        if delay > 0:
            stop.wait(delay)
            continue
        stamp = Time(sec=deadline // NS, nanosec=deadline % NS)
        image = images[seq % len(images)]
        image.header.stamp = stamp
        info.header.stamp = stamp
        image_pub.publish(image)
        info_pub.publish(info)
        if depth_pub is not None and depth_info_pub is not None:
            depth = depths[seq % len(depths)]
            depth.header.stamp = stamp
            depth_pub.publish(depth)
            depth_info_pub.publish(info)
        seq += 1
    elapsed_s = (time.time_ns() - t0) / NS
    print(json.dumps({"camera": name, "published": seq, "rate_hz": seq / elapsed_s}), flush=True)
    node.destroy_node()
    rclpy.try_shutdown()


# ---------------------------------------------------------------------------------------------- node


class _Window:
    """CPU and wall time of this process over a measurement window."""

    def __init__(self) -> None:
        import psutil

        self._process = psutil.Process()
        self._cpu0 = self._cpu()
        self._wall0 = time.perf_counter()

    def _cpu(self) -> float:
        times = self._process.cpu_times()
        return times.user + times.system

    def cpu_percent(self) -> float:
        return 100.0 * (self._cpu() - self._cpu0) / (time.perf_counter() - self._wall0)

    def cpu_seconds(self) -> float:
        return self._cpu() - self._cpu0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _copy_ms(arrays: dict[str, Any], directory: Path) -> float:
    """Milliseconds to write ``arrays`` (relative path → array) as read-only .npy files into ``directory``."""
    import numpy as np

    start = time.perf_counter()
    for name, array in arrays.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, array, allow_pickle=False)
        path.chmod(0o444)
    return (time.perf_counter() - start) * 1000.0


def run_node(args: argparse.Namespace) -> None:
    import numpy as np
    import psutil
    import rclpy
    from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
    from rclpy.executors import MultiThreadedExecutor, SingleThreadedExecutor
    from rclpy.parameter import Parameter
    from sensor_msgs.msg import CameraInfo, Image

    from spatialclaw_ros.frames import (
        FrameBuffer,
        SnapshotCache,
        attach_snapshot_cache,
        snapshot_cache,
        write_snapshot,
    )
    from spatialclaw_ros.ros.ingest import CameraIngest
    from spatialclaw_ros.ros.parameters import declare_parameters, read_settings

    cameras = camera_names(args.cameras)
    overrides = [Parameter("cameras", value=list(cameras))]
    overrides += [Parameter(f"{camera}.depth", value=args.depth) for camera in cameras]
    topics = [f"/{c}/image_raw" for c in cameras] + [f"/{c}/depth/image_raw" for c in cameras if args.depth]
    topics += [f"/{c}/camera_info" for c in cameras] + [
        f"/{c}/depth/camera_info" for c in cameras if args.depth
    ]
    overrides += [Parameter(f"qos_overrides.{t}.subscription.reliability", value=args.qos) for t in topics]

    class TimedBuffer(FrameBuffer):
        """FrameBuffer that times each add (the ingest callback's work) and counts stamp gaps."""

        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, **kw)
            self.costs_s: list[float] = []
            self.frames = 0
            self.lost = 0
            self._last: dict[tuple[str, str], int] = {}
            self.period_ns = NS / args.rate

        def _count(self, key: tuple[str, str], payload: bytes) -> None:
            sec, nanosec = struct.unpack_from("<iI", payload, 4)
            stamp = sec * NS + nanosec
            last = self._last.get(key)
            if last is not None:
                self.lost += max(0, round((stamp - last) / self.period_ns) - 1)
            self._last[key] = stamp
            self.frames += 1

        def add_image(self, camera: str, message: Any, **kw: Any) -> bool:
            start = time.perf_counter()
            accepted = super().add_image(camera, message, **kw)
            self.costs_s.append(time.perf_counter() - start)
            self._count((camera, "color"), message)
            return accepted

        def add_depth(self, camera: str, message: Any, **kw: Any) -> bool:
            start = time.perf_counter()
            accepted = super().add_depth(camera, message, **kw)
            self.costs_s.append(time.perf_counter() - start)
            self._count((camera, "depth"), message)
            return accepted

        def reset(self) -> None:
            self.costs_s, self.frames, self.lost = [], 0, 0

    rclpy.init()
    node = rclpy.create_node("bench_ingest", parameter_overrides=overrides)
    declare_parameters(node)
    buffer = TimedBuffer(
        keyframe_hz=args.keyframe_hz, history_s=args.history_s, max_memory_mb=args.max_memory_mb
    )
    ingest = CameraIngest(node, buffer, read_settings(node), MutuallyExclusiveCallbackGroup())
    ingest.start()
    executor = MultiThreadedExecutor(num_threads=4) if args.executor == "multi" else SingleThreadedExecutor()
    executor.add_node(node)
    threading.Thread(target=executor.spin, daemon=True).start()

    deadline = time.monotonic() + 60.0
    while buffer.cameras_with_frames() != set(cameras) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(args.warmup)
    buffer.reset()
    process = psutil.Process()
    window = _Window()
    rss_peak = 0
    end = time.monotonic() + args.duration
    while time.monotonic() < end:
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))
        rss_peak = max(rss_peak, process.memory_info().rss)
    cpu_percent = window.cpu_percent()
    cpu_s = window.cpu_seconds()
    frames, lost, costs = buffer.frames, buffer.lost, list(buffer.costs_s)
    rss_end = process.memory_info().rss
    stats = buffer.stats()

    indexes = []
    copy_ms = []
    if args.snapshot_dir is not None:
        default = snapshot_cache(buffer)
        cache = SnapshotCache(default.max_bytes / 2**20, args.snapshot_dir, default.warm_period_s)
        attach_snapshot_cache(buffer, cache)
    with tempfile.TemporaryDirectory(prefix="bench-snapshot-", dir=args.snapshot_dir) as tmp:
        first: dict[str, Any] = {}
        next_snapshot = time.monotonic()
        for repeat in range(args.snapshots):
            time.sleep(max(0.0, next_snapshot - time.monotonic()))
            next_snapshot = time.monotonic() + args.snapshot_interval
            indexes.append(
                write_snapshot(buffer, Path(tmp) / f"s{repeat}", None, args.history_s, args.snapshot_frames)
            )
            if not first:
                first = {
                    str(path.relative_to(Path(tmp, "s0"))): np.load(path)
                    for path in Path(tmp, "s0").rglob("*.npy")
                }
            copy_ms.append(_copy_ms(first, Path(tmp) / f"c{repeat}"))
        snapshot_bytes = sum(f.stat().st_size for f in Path(tmp, "s0").rglob("*.npy"))
    cache_bytes = snapshot_cache(buffer).bytes
    snapshot_ms = [index.write_s * 1000.0 for index in indexes]
    warming = _Window()
    time.sleep(args.baseline_duration)
    warming_cpu = warming.cpu_percent()
    ingest.stop()

    received = [0]
    subscriptions = [
        node.create_subscription(
            Image, topic, lambda _m: received.__setitem__(0, received[0] + 1), sensor_qos(args.qos), raw=True
        )
        for topic in topics
        if "image_raw" in topic
    ]
    subscriptions += [
        node.create_subscription(CameraInfo, topic, lambda _m: None, sensor_qos(args.qos))
        for topic in topics
        if "camera_info" in topic
    ]
    time.sleep(args.warmup)
    received[0] = 0
    baseline = _Window()
    time.sleep(args.baseline_duration)
    baseline_cpu = baseline.cpu_percent()
    baseline_frames = received[0]
    baseline_cpu_s = baseline.cpu_seconds()

    print(
        json.dumps(
            {
                "ingest": {
                    "node_cpu_percent": round(cpu_percent, 1),
                    "node_cpu_us_per_frame": round(1e6 * cpu_s / max(frames, 1), 1),
                    "frames_received": frames,
                    "frames_lost": lost,
                    "lost_percent": round(100.0 * lost / max(frames + lost, 1), 2),
                    "received_hz": round(frames / args.duration, 1),
                    "callback_us_mean": round(1e6 * statistics.fmean(costs), 1) if costs else None,
                    "callback_us_p50": round(1e6 * _percentile(costs, 0.5), 1),
                    "callback_us_p99": round(1e6 * _percentile(costs, 0.99), 1),
                    "rss_mb_end": round(rss_end / 2**20, 1),
                    "rss_mb_peak": round(rss_peak / 2**20, 1),
                    "buffer_mb": round(buffer.total_bytes / 2**20, 1),
                    "kept_frames": sum(s.kept for s in stats.values()),
                    "rejected": sum(s.rejected + s.depth_rejected for s in stats.values()),
                },
                "snapshot": {
                    "frames": len(indexes[-1].frames),
                    "ms": [round(ms, 1) for ms in snapshot_ms],
                    "ms_first": round(snapshot_ms[0], 1),
                    "ms_median": round(statistics.median(snapshot_ms), 1),
                    "ms_warm_median": (
                        round(statistics.median(snapshot_ms[1:]), 1) if len(indexes) > 1 else None
                    ),
                    "arrays_decoded": [index.arrays_decoded for index in indexes],
                    "arrays_linked": [index.arrays_linked for index in indexes],
                    "arrays_copied": [index.arrays_copied for index in indexes],
                    "mb_written": round(snapshot_bytes / 2**20, 1),
                    "cache_mb": round(cache_bytes / 2**20, 1),
                    "node_cpu_percent_warming": round(warming_cpu, 1),
                },
                "baseline_copy": {
                    "ms": [round(ms, 1) for ms in copy_ms],
                    "ms_median": round(statistics.median(copy_ms), 1),
                },
                "baseline_bare_subscriptions": {
                    "node_cpu_percent": round(baseline_cpu, 1),
                    "node_cpu_us_per_frame": round(1e6 * baseline_cpu_s / max(baseline_frames, 1), 1),
                    "frames_received": baseline_frames,
                    "received_hz": round(baseline_frames / args.baseline_duration, 1),
                },
            }
        ),
        flush=True,
    )
    executor.shutdown()
    node.destroy_node()
    rclpy.try_shutdown()


# ---------------------------------------------------------------------------------------------- main


def run_main(args: argparse.Namespace, argv: list[str]) -> None:
    env = dict(os.environ)
    env.setdefault("ROS_DOMAIN_ID", str(random.randint(150, 230)))
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    script = [sys.executable, str(Path(__file__).resolve()), *argv]
    node = subprocess.Popen([*script, "--role", "node"], env=env, stdout=subprocess.PIPE, text=True)
    time.sleep(1.0)
    publishers = [
        subprocess.Popen(
            [*script, "--role", "publisher", "--camera", camera], env=env, stdout=subprocess.PIPE, text=True
        )
        for camera in camera_names(args.cameras)
    ]
    budget_s = 90.0 + args.warmup * 2 + args.duration + args.baseline_duration * 2
    budget_s += args.snapshots * (args.snapshot_interval + 5.0)
    try:
        node_out, _ = node.communicate(timeout=budget_s)
    finally:
        for publisher in publishers:
            publisher.send_signal(signal.SIGINT)
        if node.poll() is None:
            node.kill()
    published = []
    for publisher in publishers:
        out, _ = publisher.communicate(timeout=30.0)
        published.append(json.loads(out.strip().splitlines()[-1]))
    result = json.loads(node_out.strip().splitlines()[-1])
    config = {k: v for k, v in vars(args).items() if k not in ("role", "camera")}
    print(
        json.dumps(
            {
                "benchmark": "ingest",
                "config": config,
                "cpu_count": os.cpu_count(),
                **result,
                "publishers_rate_hz": [round(p["rate_hz"], 1) for p in published],
            }
        )
    )


def main() -> None:
    argv = sys.argv[1:]
    args = parse_args(argv)
    if args.role == "publisher":
        run_publisher(args)
    elif args.role == "node":
        run_node(args)
    else:
        run_main(args, argv)


if __name__ == "__main__":
    main()
