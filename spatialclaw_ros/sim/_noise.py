"""A seeded depth-sensor noise model: range-dependent error, mixed edge pixels, holes, quantisation.

Convention:
    Depth images are (H, W) metres along the optical axis; invalid pixels are NaN (REP-118 float
    depth). The steps run in the order a structured-light or stereo sensor produces them:
    mixed pixels at depth discontinuities, Gaussian error with sigma = ``sigma_at_1m_m * z**2``,
    holes (random dropouts, grazing surfaces, beyond range), then quantisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spatialclaw_ros.sim._checks import fraction, non_negative, positive


@dataclass(frozen=True)
class DepthNoise:
    """Parameters of the depth noise model; each effect is off at 0.

    Attributes:
        sigma_at_1m_m: standard deviation of the depth error at 1 m, metres; it grows with z².
        hole_fraction: probability that any pixel drops out.
        grazing_cos: pixels whose ray meets the surface with |cos(incidence)| below this drop out.
        edge_jump_m: a depth step larger than this between 4-neighbours makes the pixels on both sides
            candidates for mixed pixels.
        edge_mix_fraction: probability that such a candidate becomes a mixed pixel, with a depth drawn
            uniformly between its own and its neighbour's.
        quantisation_m: depth step of the output, metres (0.001: a 16UC1 millimetre image).
        max_range_m: pixels farther than this drop out.
    """

    sigma_at_1m_m: float = 0.0015
    hole_fraction: float = 0.002
    grazing_cos: float = 0.1
    edge_jump_m: float = 0.1
    edge_mix_fraction: float = 0.5
    quantisation_m: float = 0.001
    max_range_m: float = 10.0

    def __post_init__(self) -> None:
        for name in ("sigma_at_1m_m", "quantisation_m"):
            object.__setattr__(self, name, non_negative(f"DepthNoise.{name}", getattr(self, name)))
        for name in ("hole_fraction", "grazing_cos", "edge_mix_fraction"):
            object.__setattr__(self, name, fraction(f"DepthNoise.{name}", getattr(self, name)))
        for name in ("edge_jump_m", "max_range_m"):
            object.__setattr__(self, name, positive(f"DepthNoise.{name}", getattr(self, name)))


def add_depth_noise(
    depth_m: NDArray[np.floating],
    incidence_cos: NDArray[np.floating],
    noise: DepthNoise,
    rng: np.random.Generator,
) -> NDArray[np.float32]:
    """A noisy copy (H, W) float32 of a clean depth image, NaN where the sensor returns nothing.

    ``incidence_cos`` (H, W) is |cos| of the angle between each pixel's ray and the surface normal
    (``RenderedView.incidence_cos``). The same ``rng`` state gives the same noise.
    """
    depth = np.asarray(depth_m, dtype=np.float64)
    if depth.ndim != 2:
        raise ValueError(f"depth_m must have shape (H, W), got {depth.shape}")
    incidence = np.asarray(incidence_cos, dtype=np.float64)
    if incidence.shape != depth.shape:
        raise ValueError(f"incidence_cos must have the shape of depth_m {depth.shape}, got {incidence.shape}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    z = depth.copy()
    if noise.edge_mix_fraction > 0.0:
        jump = _largest_neighbour_step(depth)
        mixed = (np.abs(jump) > noise.edge_jump_m) & (rng.random(depth.shape) < noise.edge_mix_fraction)
        z[mixed] += rng.random(int(mixed.sum())) * jump[mixed]
    if noise.sigma_at_1m_m > 0.0:
        z += rng.standard_normal(depth.shape) * noise.sigma_at_1m_m * z * z
    holes = ~np.isfinite(z) | (z <= 0.0) | (z > noise.max_range_m) | (incidence < noise.grazing_cos)
    if noise.hole_fraction > 0.0:
        holes |= rng.random(depth.shape) < noise.hole_fraction
    if noise.quantisation_m > 0.0:
        z = np.round(z / noise.quantisation_m) * noise.quantisation_m
    z[holes] = np.nan
    return z.astype(np.float32)


def _largest_neighbour_step(depth: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per pixel, (neighbour depth - own depth) for the 4-neighbour with the largest |difference|."""
    padded = np.pad(depth, 1, mode="edge")
    neighbours = np.stack([padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]]) - depth
    neighbours = np.where(np.isfinite(neighbours), neighbours, 0.0)
    best = np.abs(neighbours).argmax(axis=0)
    return np.take_along_axis(neighbours, best[None], axis=0)[0]
