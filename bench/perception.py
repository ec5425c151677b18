"""Perception benchmark: backend latency on CPU, service overhead, cache hits, Ray Serve scaling.

Random weights in the published model sizes (they cost the same compute as trained ones), written to a
temporary directory in the published layouts and loaded by the production code. Prints one JSON line.

    .venv/bin/python bench/perception.py            # published sizes (minutes on 2 cores)
    .venv/bin/python bench/perception.py --quick    # tiny SAM3, ViT-S metric DA3 at 126 px, 1 repeat, no Ray
                                                    # (seconds: the test suite runs it)

JSON fields (the last line of stdout):
- ``bench``: "perception"
- ``device``: "cpu"
- ``cpu_count``: cores of the machine
- ``service_call_no_model_ms``: ms, median segment call through the service process (label images, no model)
- ``cache_hit_ms``: ms, median repeated call answered from the service's cache
- ``cache_hit_target_ms``: ms, the target for a cache hit
- ``sam3_model``: which SAM3 size was measured
- ``da3_metric_model``: which metric DA3 network was measured
- ``da3_res_px``: px, DA3's processing resolution (long side)
- ``image_px``: the input image size, "WIDTHxHEIGHT"
- ``sam3_segment_ms``: ms, median SAM3 segmentation of one image
- ``da3metric_large_depth_ms``: ms, median metric depth of one image
- ``da3_small_reconstruct_4_frames_ms``: ms, median da3-small reconstruction of 4 views
- ``checkpoints_write_and_load_s``: s, writing the random checkpoints and loading them

JSON fields of the Ray Serve part (not with ``--quick`` or ``--no-ray``: starting Ray takes half a minute):
- ``ray_requests``: count, depth requests sent per replica count
- ``ray_da3_res_px``: px, DA3's processing resolution behind Ray Serve
- ``ray_1_replica_req_per_s``: requests/s with one replica
- ``ray_2_replica_req_per_s``: requests/s with two replicas
- ``ray_speedup_2_vs_1``: ratio of the two throughputs
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHIM = REPO / "test" / "perception" / "site" / "sitecustomize.py"
sys.path[:0] = [str(REPO), str(REPO / "test")]  # run from a source checkout; test/support makes checkpoints
from spatialclaw_ros.perception import (  # noqa: E402
    PerceptionClient,
    PerceptionServiceProcess,
    PerceptionSettings,
    build_ray_app,
)
from spatialclaw_ros.perception._da3 import Da3DepthEstimator, Da3Reconstructor  # noqa: E402
from spatialclaw_ros.perception._sam3 import Sam3Segmenter  # noqa: E402
from spatialclaw_ros.perception._types import View  # noqa: E402

from support.checkpoints import METRIC_SMALL_OVERRIDES, write_random_da3, write_random_sam3  # noqa: E402

K = np.array([[525.0, 0.0, 319.5], [0.0, 525.0, 239.5], [0.0, 0.0, 1.0]])


def images(count: int, height: int = 480, width: int = 640) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(count)]


def median_ms(call: Callable[[], Any], repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return round(1000.0 * statistics.median(times), 2)


def backend_latency(root: Path, quick: bool, repeats: int) -> dict[str, Any]:
    res = 126 if quick else 504
    (frame,) = images(1)
    started = time.perf_counter()
    sam3 = Sam3Segmenter(str(write_random_sam3(root / "sam3", tiny=quick)), "cpu", 0.5)
    overrides = METRIC_SMALL_OVERRIDES if quick else ()
    metric = write_random_da3(root / "metric", "da3metric-large", overrides)
    depth = Da3DepthEstimator(str(metric), "cpu", res, overrides)
    recon = Da3Reconstructor(str(write_random_da3(root / "small", "da3-small")), "cpu", res)
    setup_s = time.perf_counter() - started
    views = [View(image, K) for image in images(4)]
    return {
        "sam3_model": "tiny (2 M weights, 112 px)" if quick else "published size (1008 px)",
        "da3_metric_model": "ViT-S backbone (25 M weights)" if quick else "published size (da3metric-large)",
        "da3_res_px": res,
        "image_px": "640x480",
        "sam3_segment_ms": median_ms(lambda: sam3.segment(frame, "chair", 0.5, None), repeats),
        "da3metric_large_depth_ms": median_ms(lambda: depth.estimate(frame, K), repeats),
        "da3_small_reconstruct_4_frames_ms": median_ms(lambda: recon.reconstruct(views), repeats),
        "checkpoints_write_and_load_s": round(setup_s, 1),
    }


def service_latency(root: Path) -> dict[str, Any]:
    settings = PerceptionSettings(
        segmenter="labels", depth="sensor", reconstructor="none", label_map=((1, "chair"),)
    )
    labels = np.zeros((480, 640), dtype=np.uint16)
    labels[100:200, 300:400] = 1
    frames = images(40)
    with PerceptionServiceProcess(settings, root / "p.sock") as service:
        client = service.client()
        request = {"prompt": "chair"}

        def call(i: int) -> Any:
            return client.call("segment", request, {"image": frames[i], "labels": labels})

        misses = iter(range(1, 40))
        return {
            "service_call_no_model_ms": median_ms(lambda: call(next(misses)), 30, warmup=2),
            "cache_hit_ms": median_ms(lambda: call(0), 200, warmup=2),
            "cache_hit_target_ms": 5.0,
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _depth(client: PerceptionClient, image: np.ndarray) -> Any:
    return client.call("depth", {}, {"image": image})


def ray_throughput(root: Path, requests: int) -> dict[str, Any]:
    import ray
    from ray import serve

    model = write_random_da3(root / "ray_small", "da3-small")
    settings = PerceptionSettings(
        segmenter="none",
        depth="da3",
        reconstructor="none",
        da3_depth_model=str(model),
        da3_process_res_px=252,
        device="cpu",
        torch_threads=1,
        cache_entries=0,
    )
    port = free_port()
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}},
    )
    out: dict[str, Any] = {"ray_requests": requests, "ray_da3_res_px": settings.da3_process_res_px}
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        bodies = images(requests, 240, 320)
        for replicas in (1, 2):
            app = build_ray_app(
                settings, num_replicas=replicas, max_batch_size=4, ray_actor_options={"num_cpus": 1}
            )
            serve.run(app, name="perception", route_prefix="/")
            client = PerceptionClient(url=f"http://127.0.0.1:{port}", timeout_s=600)
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(partial(_depth, client), [image[:100] for image in bodies[:4]]))
            started = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(partial(_depth, client), bodies))
            out[f"ray_{replicas}_replica_req_per_s"] = round(requests / (time.perf_counter() - started), 2)
            serve.delete("perception")
    finally:
        serve.shutdown()
        ray.shutdown()
    out["ray_speedup_2_vs_1"] = round(out["ray_2_replica_req_per_s"] / out["ray_1_replica_req_per_s"], 2)
    return out


def load_torchvision_shim() -> None:
    """The test set-up's torchvision shim: SAM3's processor imports torchvision (see that file)."""
    spec = importlib.util.spec_from_file_location("_torchvision_shim", SHIM)
    assert spec is not None and spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))


def main() -> None:
    load_torchvision_shim()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small models, low resolution, 1 repeat, no Ray")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per backend (3; --quick: 1)")
    parser.add_argument("--ray-requests", type=int, default=16)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    repeats = args.repeats or (1 if args.quick else 3)
    figures: dict[str, Any] = {"bench": "perception", "device": "cpu", "cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="scp-bench-") as name:
        root = Path(name)
        figures.update(service_latency(root))
        figures.update(backend_latency(root, args.quick, repeats))
        if not (args.no_ray or args.quick):
            figures.update(ray_throughput(root, args.ray_requests))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
