"""Render time of the simulated cameras: full scenes against the bare room (the baseline), one core.

Prints one JSON line: median milliseconds per view at each resolution, with ``render`` and with a
``SceneRenderer`` that keeps a still camera's static layer (``_kept_ms``: a view at a new scene time,
what the sim publisher pays per camera and tick), the depth-noise model's time, and the bare-room
baseline measured in the same run.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable

import numpy as np

from spatialclaw_ros.sim import DepthNoise, Scene, SceneRenderer, add_depth_noise, generate_scene, render

REPEATS = 15


def median_ms(run: Callable[[], object]) -> float:
    run()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return round(1000.0 * statistics.median(times), 2)


def _ticks(renderer: SceneRenderer) -> Callable[[], object]:
    """One view per call, each at the next tick of a 10 Hz publisher."""
    times = iter(np.arange(0.0, 100.0, 0.1))
    return lambda: renderer.render("camera", float(next(times)))


def main() -> None:
    figures: dict[str, object] = {"cpu_count": os.cpu_count(), "repeats": REPEATS}
    for kind in ("room", "warehouse"):
        for width, height in ((640, 480), (320, 240), (160, 120)):
            scene = generate_scene(seed=0, kind=kind, width=width, height=height)
            bare = Scene(room=scene.room, objects=(), cameras=scene.cameras)
            size = f"{width}x{height}"
            figures[f"{kind}_{size}_ms"] = median_ms(lambda s=scene: render(s, "camera", 1.0))
            figures[f"{kind}_{size}_kept_ms"] = median_ms(_ticks(SceneRenderer(scene)))
            figures[f"baseline_bare_{kind}_{size}_ms"] = median_ms(lambda s=bare: render(s, "camera", 1.0))
        figures[f"{kind}_objects"] = len(scene.objects)
    view = render(generate_scene(seed=0, width=640, height=480), "camera", 1.0)
    rng = np.random.default_rng(0)
    figures["depth_noise_640x480_ms"] = median_ms(
        lambda: add_depth_noise(view.depth_m, view.incidence_cos, DepthNoise(), rng)
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
