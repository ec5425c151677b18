"""Render time of the simulated cameras: full scenes against the bare room (the baseline), one core.

Prints one JSON line: median milliseconds per view at each resolution, with ``render`` and with a
``SceneRenderer`` that keeps a still camera's static layer (``kept_ms``: a view at a new scene time,
what the sim publisher pays per camera and tick), the depth-noise model's time, and the bare-room
baseline measured in the same run.

    python bench/sim_render.py            # 15 timed renders per figure
    python bench/sim_render.py --quick    # 2 timed renders per figure (a few seconds: the test suite runs it)

JSON fields (the last line of stdout):
- ``bench``: "sim_render"
- ``cpu_count``: cores of the machine
- ``repeats``: timed renders per figure (after one untimed)
- ``views[].kind``: the generated scene ("room" or "warehouse")
- ``views[].size``: the camera's resolution, "WIDTHxHEIGHT" pixels
- ``views[].objects``: count, objects in the scene
- ``views[].render_ms``: ms, median time of ``render`` for one view of the full scene
- ``views[].kept_ms``: ms, median time of a ``SceneRenderer`` view at the next 10 Hz tick
- ``views[].baseline_bare_ms``: ms, median time of ``render`` for the same room without objects
- ``depth_noise_640x480_ms``: ms, median time of the depth-noise model on one 640×480 view
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable

import numpy as np

from spatialclaw_ros.sim import DepthNoise, Scene, SceneRenderer, add_depth_noise, generate_scene, render


def median_ms(run: Callable[[], object], repeats: int) -> float:
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return round(1000.0 * statistics.median(times), 2)


def _ticks(renderer: SceneRenderer) -> Callable[[], object]:
    """One view per call, each at the next tick of a 10 Hz publisher."""
    times = iter(np.arange(0.0, 100.0, 0.1))
    return lambda: renderer.render("camera", float(next(times)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 timed renders per figure instead of 15")
    repeats = 2 if parser.parse_args().quick else 15
    views = []
    for kind in ("room", "warehouse"):
        for width, height in ((640, 480), (320, 240), (160, 120)):
            scene = generate_scene(seed=0, kind=kind, width=width, height=height)
            bare = Scene(room=scene.room, objects=(), cameras=scene.cameras)
            views.append(
                {
                    "kind": kind,
                    "size": f"{width}x{height}",
                    "objects": len(scene.objects),
                    "render_ms": median_ms(lambda s=scene: render(s, "camera", 1.0), repeats),
                    "kept_ms": median_ms(_ticks(SceneRenderer(scene)), repeats),
                    "baseline_bare_ms": median_ms(lambda s=bare: render(s, "camera", 1.0), repeats),
                }
            )
    view = render(generate_scene(seed=0, width=640, height=480), "camera", 1.0)
    rng = np.random.default_rng(0)
    noise_ms = median_ms(
        lambda: add_depth_noise(view.depth_m, view.incidence_cos, DepthNoise(), rng), repeats
    )
    figures = {
        "bench": "sim_render",
        "cpu_count": os.cpu_count(),
        "repeats": repeats,
        "views": views,
        "depth_noise_640x480_ms": noise_ms,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
