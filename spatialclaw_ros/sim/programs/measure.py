"""Kernel program: measure objects seen by several fixed cameras with depth, from segmentation masks.

This file is sent as the text of a ``code`` cell (followed by one call, see
``spatialclaw_ros.sim.programs``); in the kernel it sees only numpy, scipy, ``spatialclaw_ros.geometry``
and the runtime's answer types and perception error, and it takes ``frames`` and ``tools`` as arguments.

Method:
    Every object is measured from all cameras at once. Per camera, ``tools.track`` gives the
    object's mask in each frame of the window; each pixel's depth is the median over the frames
    that show the object there (the cameras stand still), which averages sensor noise and ignores
    a passer-by hiding the pixel in some frames. Back-projected and moved into the world by the
    frames' poses, the pixels of all cameras form one surface, to which an upright box is fitted
    (``fit_upright_box``): exact depth gives the box from the extremes, noisy depth (detected from
    the depth's spread over time) from the median position of the points on each face, after
    eroding masks by one pixel (mixed depth at edges) and dropping isolated points. A footprint
    that a circle fits better is an upright cylinder's. No camera sees where an object touches its
    support, so its bottom snaps to the surface below it (the highest layer of scene points
    around its footprint) when the gap is within a few pixels' footprint.
    A moving object is located per stamp (the cameras of a rig publish each tick with one stamp,
    and ticks that lost a camera's frame are left out when enough remain); its velocity is the
    Theil–Sen slope (median of pairwise slopes) of the centres of its latest straight stretch
    (the track is cut where the direction of travel reverses, and an end step much slower than the
    stretch's median is cut too: the walker turned round within it).

Convention:
    World frame of the snapshot (REP-103, z up, the floor below everything), metres, seconds.
    Headings are radians counter-clockwise from world +x, in (-pi, pi]. Sizes of an upright box are
    (length, width, height): the longer and the shorter side of its footprint, then its height.
    Relative directions are those of ``geo.relative_direction`` seen from a named camera, levelled
    (up = +z).
"""

import json
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from scipy import ndimage

from spatialclaw_ros import geometry as geo
from spatialclaw_ros.runtime.answer import Measurement, Object3D, Trajectory
from spatialclaw_ros.runtime.tools import PerceptionError

UP = np.array([0.0, 0.0, 1.0])
# Robust sigma of a median pixel's depth over time (metres) above which a camera counts as noisy.
NOISY_DEPTH_M = 5e-5
# An object's bottom snaps to the surface below when the gap is at most this many pixel footprints.
SUPPORT_GAP_PX = 4.0
# Horizontal margin around a footprint in which the supporting surface is looked for, metres.
SUPPORT_MARGIN_M = 0.12
# How far below an object's lowest point its support is looked for, metres.
SUPPORT_DEPTH_M = 0.3
# A direction reversal: consecutive steps whose cosine is below this.
REVERSAL_COS = 0.0
# Fewest samples a velocity is fitted to when an earlier straight stretch is long enough.
MIN_TRACK_POINTS = 3
# An end step of a stretch slower than this share of its median step speed holds a turn.
TURN_STEP_SPEED = 0.8
# Fewest points that make a surface, a face or a top.
MIN_POINTS = 10
# Most points the yaw search evaluates (a regular subsample).
YAW_POINTS = 2000
# A point whose 8th neighbour is farther than this many pixel spacings is an isolated depth error.
OUTLIER_GAP_PX = 6.0
# A cylinder's visible arc spans nearly its diameter (a camera sees almost half of it); a circle much
# wider than the footprint is a flat face's, which a circle of huge radius fits as well as a line.
CYLINDER_MAX_DIAMETER_RATIO = 1.25


class MeasurementError(RuntimeError):
    """The frames do not hold what a measurement needs (no pose, no depth, object not seen)."""


class Surface(NamedTuple):
    """Surface points of one object, fused over cameras.

    Attributes:
        points: (N, 3) world points, metres.
        sigma_m: (N,) uncertainty of each point's depth, metres (0: exact).
        spacing_m: (N,) distance between neighbouring pixels' rays at each point (depth / fx).
        ray: (N, 3) how far the world point moves per metre of depth error (its pixel's ray
            scaled to unit optical depth, in the world frame): the noise of a point along a unit
            direction n is ``sigma_m * |ray @ n|``.
    """

    points: np.ndarray
    sigma_m: np.ndarray
    spacing_m: np.ndarray
    ray: np.ndarray


def _surface(frame: Any, depth: np.ndarray, sigma: np.ndarray, mask: np.ndarray) -> Surface:
    local = geo.backproject(depth, frame.K, mask)
    R = np.asarray(frame.T_world_camera)[:3, :3]
    return Surface(
        geo.transform_points(frame.T_world_camera, local),
        sigma[mask],
        local[:, 2] / float(frame.K[0, 0]),
        (local / local[:, 2:3]) @ R.T,
    )


def _fused(parts: list[Surface], label: str) -> Surface:
    if sum(len(part.points) for part in parts) < MIN_POINTS:
        raise MeasurementError(f"no camera sees enough of {label!r}")
    return Surface(*(np.concatenate(arrays) for arrays in zip(*parts, strict=True)))


def _without_outliers(surface: Surface) -> Surface:
    """Drop isolated points: those whose 8th neighbour is much farther than their own pixel spacing."""
    from scipy.spatial import cKDTree

    gaps = cKDTree(surface.points).query(surface.points, k=9)[0][:, -1] / surface.spacing_m
    keep = gaps <= OUTLIER_GAP_PX
    return Surface(*(array[keep] for array in surface))


def _without_gross_outliers(surface: Surface) -> Surface:
    """Drop points beyond the 0.5-99.5 % quantile box grown by half its size on every side."""
    low, high = np.quantile(surface.points, [0.005, 0.995], axis=0)
    margin = 0.5 * (high - low) + 1e-3
    keep = np.all((surface.points >= low - margin) & (surface.points <= high + margin), axis=1)
    return Surface(*(array[keep] for array in surface))


def _median_and_spread(stack: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-pixel median of the finite samples of ``stack`` (T, ...), their robust sigma and count.

    NaN where a pixel has no finite sample. Sorting once (NaN last) is much faster than nanmedian.
    """
    count = np.sum(np.isfinite(stack), axis=0)

    def middle(values: np.ndarray) -> np.ndarray:
        ordered = np.sort(values, axis=0)
        low = np.take_along_axis(ordered, np.maximum(count - 1, 0)[None] // 2, axis=0)[0]
        high = np.take_along_axis(
            ordered, (np.maximum(count, 1)[None] // 2).clip(max=len(values) - 1), axis=0
        )[0]
        return np.where(count > 0, 0.5 * (low + high), np.nan)

    median = middle(stack)
    with np.errstate(invalid="ignore"):
        spread = 1.4826 * middle(np.abs(stack - median))
    return median, np.nan_to_num(spread), count


def complete_frames(frames: Any) -> list:
    """The frames with depth, intrinsics and a pose, oldest first.

    When some frames of the camera carry instance labels, only those: a frame whose label image
    never came (the stream ended mid-tick) is incomplete.
    """
    usable = [f for f in frames if f.depth is not None and f.K is not None and f.T_world_camera is not None]
    labelled = [f for f in usable if getattr(f, "labels", None) is not None]
    return labelled or usable


class Views:
    """The snapshot's frames as fixed cameras: per camera its frames, denoised depth, noise and points.

    Args:
        frames: the kernel's ``frames`` (frames without ``depth``, ``K`` or ``T_world_camera`` are
            left out, see ``complete_frames``).
        tools: the kernel's ``tools`` (``segment`` is used).
        cameras: the camera names to use; None: all.
    """

    def __init__(self, frames: Any, tools: Any, cameras: Sequence[str] | None = None) -> None:
        self.tools = tools
        names = [c for c in frames.cameras if cameras is None or c in cameras]
        self._by_camera = {camera: complete_frames(frames.by_camera(camera)) for camera in names}
        self.cameras = [camera for camera, runs in self._by_camera.items() if runs]
        if not self.cameras:
            raise MeasurementError("no frame has depth, intrinsics and a pose")
        self._depth: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._scene_points: dict[str, np.ndarray] = {}
        self._masks: dict[tuple[str, str], np.ndarray] = {}
        self._boxes: dict[str, geo.Box3D] = {}
        self._floor_m: float | None = None
        self._noisy: bool | None = None

    def by_camera(self, camera: str) -> list:
        """The camera's complete frames, oldest first."""
        return self._by_camera[camera]

    def latest(self, camera: str) -> Any:
        """The camera's newest complete frame; MeasurementError when it has none."""
        runs = self._by_camera.get(camera)
        if not runs:
            raise MeasurementError(f"camera {camera!r} has no frame with depth, intrinsics and a pose")
        return runs[-1]

    def _denoise(self, camera: str) -> tuple[np.ndarray, np.ndarray]:
        if camera not in self._depth:
            stack = np.stack([np.asarray(f.depth, dtype=np.float64) for f in self.by_camera(camera)])
            if len(stack) == 1:
                self._depth[camera] = (stack[0], np.zeros_like(stack[0]))
            else:
                median, spread, count = _median_and_spread(stack)
                # The median of n samples has about 1.25 sigma / sqrt(n).
                sigma = 1.25 * spread / np.sqrt(np.maximum(count, 1))
                self._depth[camera] = (median, sigma)
        return self._depth[camera]

    def depth(self, camera: str) -> np.ndarray:
        """(H, W) metres: per-pixel median over the camera's frames (its latest depth with one frame)."""
        return self._denoise(camera)[0]

    def depth_sigma(self, camera: str) -> np.ndarray:
        """(H, W) metres: uncertainty of :meth:`depth` from the temporal spread (0 with one frame)."""
        return self._denoise(camera)[1]

    @property
    def noisy(self) -> bool:
        """Whether the depth of any camera varies over time (median pixel sigma above ``NOISY_DEPTH_M``)."""
        if self._noisy is None:
            self._noisy = any(float(np.median(self.depth_sigma(c))) > NOISY_DEPTH_M for c in self.cameras)
        return self._noisy

    def masks(self, camera: str, label: str) -> np.ndarray:
        """(F, H, W) bool: every instance of ``label`` in each of the camera's frames (``by_camera``).

        One ``tools.track`` call per camera; each mask is eroded by one pixel when noisy. A camera
        whose frames cannot be segmented (say, label images that never came) is a MeasurementError
        of the questions that need it, not of the whole program.
        """
        key = (camera, label)
        if key not in self._masks:
            try:
                tracks = self.tools.track(self.by_camera(camera), label)
            except PerceptionError as error:
                raise MeasurementError(f"camera {camera!r} cannot segment {label!r}: {error}") from error
            masks = np.asarray(tracks.masks, dtype=bool).any(axis=0)
            if self.noisy:
                masks = np.stack([ndimage.binary_erosion(mask) for mask in masks])
            self._masks[key] = masks
        return self._masks[key]

    def object_depth(self, camera: str, label: str) -> tuple[np.ndarray, np.ndarray]:
        """Depth (H, W) of a static object's pixels in one camera and its uncertainty (H, W), metres.

        Each pixel's depth is the median over the frames whose segmentation puts the object there
        (a passer-by hiding it in some frames does not count); pixels where the object shows in
        fewer than half the frames are NaN. The uncertainty is that of the median, from the
        samples' spread (0 for exact depth).
        """
        runs = self.by_camera(camera)
        masks = self.masks(camera, label)
        shown = masks.sum(axis=0)
        keep = shown * 2 >= len(runs)
        depth = np.full(keep.shape, np.nan)
        sigma = np.zeros(keep.shape)
        if not keep.any():
            return depth, sigma
        rows, cols = np.flatnonzero(keep.any(axis=1)), np.flatnonzero(keep.any(axis=0))
        window = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        stack = np.stack([np.asarray(frame.depth, dtype=np.float64)[window] for frame in runs])
        stack[~masks[(slice(None), *window)]] = np.nan
        median, spread, count = _median_and_spread(stack)
        inside = keep[window]
        depth[window] = np.where(inside, median, np.nan)
        # The median of n samples has about 1.25 sigma / sqrt(n).
        sigma[window] = np.where(inside, 1.25 * spread / np.sqrt(np.maximum(count, 1)), 0.0)
        return depth, sigma

    def points(self, label: str) -> Surface:
        """The surface points of a static object, fused over every camera that sees it."""
        parts = []
        for camera in self.cameras:
            frame = self.latest(camera)
            depth, sigma = self.object_depth(camera, label)
            mask = np.isfinite(depth) & (depth > 0.0)
            if mask.any():
                parts.append(_surface(frame, depth, sigma, mask))
        return _fused(parts, label)

    def scene_points(self, camera: str) -> np.ndarray:
        """(N, 3) world points of every pixel the camera sees (denoised depth)."""
        if camera not in self._scene_points:
            frame = self.latest(camera)
            local = geo.backproject(self.depth(camera), frame.K)
            self._scene_points[camera] = geo.transform_points(frame.T_world_camera, local)
        return self._scene_points[camera]

    def box(self, label: str) -> geo.Box3D:
        """The object's upright box in the world, its bottom on its support (see the module docstring)."""
        if label not in self._boxes:
            self._boxes[label] = self._fit_box(label)
        return self._boxes[label]

    def _fit_box(self, label: str) -> geo.Box3D:
        surface = self.points(label)
        fit = fit_upright_box(surface)
        bottom = fit.center[2] - 0.5 * fit.size[2]
        top = fit.center[2] + 0.5 * fit.size[2]
        support = self.support_height(fit, bottom)
        reach = SUPPORT_GAP_PX * float(np.max(surface.spacing_m)) + 3.0 * float(np.median(surface.sigma_m))
        if support is not None and bottom - reach <= support <= bottom:
            bottom = support
        size = np.array([fit.size[0], fit.size[1], top - bottom])
        center = np.array([fit.center[0], fit.center[1], 0.5 * (top + bottom)])
        return geo.Box3D(center=center, size=size, rotation=fit.rotation)

    def support_height(self, box: geo.Box3D, bottom_m: float) -> float | None:
        """Height of the surface the box stands on, metres; None when no scene point lies below it.

        The scene points within ``SUPPORT_MARGIN_M`` of the footprint and at most ``SUPPORT_DEPTH_M``
        below the box's bottom are histogrammed in height (1 cm bins); the support is the highest
        well-filled layer (at least a third of the fullest bin), refined to the median of its
        points.
        """
        heights = []
        half = 0.5 * box.size[:2] + SUPPORT_MARGIN_M
        for camera in self.cameras:
            points = self.scene_points(camera)
            local = box.to_local(points)
            near = (np.abs(local[:, 0]) <= half[0]) & (np.abs(local[:, 1]) <= half[1])
            z = points[near, 2]
            heights.append(z[(z < bottom_m) & (z >= bottom_m - SUPPORT_DEPTH_M)])
        z = np.concatenate(heights)
        if z.size < MIN_POINTS:
            return None
        counts, edges = np.histogram(z, bins=max(int(np.ceil(np.ptp(z) / 0.01)), 1))
        counts = np.convolve(np.pad(counts, 1), np.ones(3), mode="valid")
        layer = int(np.flatnonzero(counts >= counts.max() / 3.0)[-1])
        centre = 0.5 * (edges[layer] + edges[layer + 1])
        return float(np.median(z[np.abs(z - centre) <= 0.02]))

    def floor_height(self) -> float:
        """Height of the floor (median height of the pixels segmented as "floor"), metres."""
        if self._floor_m is None:
            try:
                self._floor_m = float(np.median(self.points("floor").points[:, 2]))
            except MeasurementError:
                raise MeasurementError("no camera sees the floor") from None
        return self._floor_m

    def count(self, category: str) -> tuple[int, list[str]]:
        """How many distinct instances of ``category`` any camera sees, and their names."""
        names: set[str] = set()
        for camera in self.cameras:
            names.update(self.tools.segment(self.latest(camera), category).labels)
        return len(names), sorted(names)

    def track(self, label: str) -> tuple[np.ndarray, np.ndarray]:
        """Stamps (N,) and world centres (N, 3) of a moving object: one fused fit per stamp.

        The stamps at which every camera has a frame are used when two or more of them give a fit:
        a tick that lost a camera's frame shows less of the object, and its centre would jump.
        """
        by_stamp: dict[float, list] = {}
        for camera in self.cameras:
            for frame, mask in zip(self.by_camera(camera), self.masks(camera, label), strict=True):
                by_stamp.setdefault(frame.stamp, []).append((frame, mask))
        fits: dict[float, np.ndarray] = {}
        for stamp in sorted(by_stamp):
            parts = []
            for frame, seen in by_stamp[stamp]:
                depth = np.asarray(frame.depth, dtype=np.float64)
                mask = seen & np.isfinite(depth) & (depth > 0.0)
                if mask.any():
                    # One frame's depth: the pixel's own temporal spread, not that of the median.
                    runs = len(self.by_camera(frame.camera))
                    sigma = self.depth_sigma(frame.camera) * math.sqrt(runs) / 1.25
                    parts.append(_surface(frame, depth, sigma, mask))
            try:
                fits[stamp] = fit_upright_box(_fused(parts, label)).center
            except MeasurementError:
                continue
        complete = [stamp for stamp in fits if len(by_stamp[stamp]) == len(self.cameras)]
        stamps = complete if len(complete) >= 2 else list(fits)
        if len(stamps) < 2:
            raise MeasurementError(f"{label!r} is seen at {len(stamps)} stamps; a velocity needs 2 or more")
        return np.array(stamps), np.array([fits[stamp] for stamp in stamps])


def _yaw_of_least_area(xy: np.ndarray, trim: float) -> float:
    """Yaw in [0, pi/2) of the smallest trimmed-quantile rectangle around ``xy`` (1, then 0.05 deg steps)."""
    # A few thousand points pin the quantiles well enough and keep the search fast.
    xy = xy[:: max(1, len(xy) // YAW_POINTS)]

    def area(yaw: float) -> float:
        c, s = math.cos(yaw), math.sin(yaw)
        u, v = xy @ np.array([c, s]), xy @ np.array([-s, c])
        lo_u, hi_u = np.quantile(u, [trim, 1.0 - trim])
        lo_v, hi_v = np.quantile(v, [trim, 1.0 - trim])
        return float((hi_u - lo_u) * (hi_v - lo_v))

    coarse = np.radians(np.arange(0.0, 90.0, 1.0))
    best = float(coarse[int(np.argmin([area(yaw) for yaw in coarse]))])
    fine = best + np.radians(np.arange(-1.0, 1.0001, 0.05))
    return float(fine[int(np.argmin([area(yaw) for yaw in fine]))]) % (0.5 * math.pi)


def _circle(xy: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Least-squares circle through ``xy`` (N, 2), refined without outliers.

    Returns the centre, the radius and the median residual, metres.
    """
    keep = np.ones(len(xy), dtype=bool)
    centre, radius = xy.mean(axis=0), 0.0
    for _ in range(3):
        p = xy[keep]
        A = np.column_stack([p, np.ones(len(p))])
        b = (p * p).sum(axis=1)
        solution = np.linalg.lstsq(A, b, rcond=None)[0]
        centre = 0.5 * solution[:2]
        radius = math.sqrt(max(float(solution[2] + centre @ centre), 0.0))
        residual = np.abs(np.linalg.norm(xy - centre, axis=1) - radius)
        keep = residual <= max(3.0 * 1.4826 * float(np.median(residual[keep])), 1e-9)
    residual = np.abs(np.linalg.norm(xy - centre, axis=1) - radius)
    return centre, radius, float(np.median(residual))


def _face_gaps(local: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """(N, 4) signed distances of footprint points (box axes) inside the faces -x, +x, -y, +y."""
    return np.column_stack(
        [local[:, 0] - lo[0], hi[0] - local[:, 0], local[:, 1] - lo[1], hi[1] - local[:, 1]]
    )


def _face_bounds(
    local: np.ndarray, slack: np.ndarray, cap: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Refine the four side faces: each at the median of the side points within ``slack`` of it.

    ``local`` (N, 2) side points in box axes, ``slack`` (N, 2) how far each may lie off a face
    normal to each axis; ``cap`` (M, 2) top points in box axes bound a face no side point shows.
    """
    for _ in range(3):
        gaps = _face_gaps(local, lo, hi)
        nearest = np.argmin(np.abs(gaps), axis=1)
        bounds = [lo[0], hi[0], lo[1], hi[1]]
        for face in range(4):
            axis = face // 2
            on_face = (nearest == face) & (np.abs(gaps[:, face]) <= slack[:, axis])
            if on_face.sum() >= MIN_POINTS:
                bounds[face] = float(np.median(local[on_face, axis]))
            elif len(cap) >= MIN_POINTS:
                bounds[face] = float(np.quantile(cap[:, axis], 0.99 if face % 2 else 0.01))
        lo, hi = np.array(bounds[0::2]), np.array(bounds[1::2])
    return lo, hi


def fit_upright_box(surface: Surface) -> geo.Box3D:
    """An upright box (or the square box around an upright cylinder) fitted to an object's surface.

    Convention:
        World metres, z up. Exact depth (every sigma 0): points far outside the 0.5-99.5 % quantile box
        (by more than half its size) are dropped, then the box's faces are the extremes along the axes
        of the smallest footprint rectangle (the faces a camera sees hold points exactly on them). Noisy
        depth: isolated points are dropped, the yaw is that of the smallest 1 %-trimmed rectangle, and
        each face sits at the median of the points within three sigma (along the face's normal) of it,
        which is unbiased under noise; a side face that no point
        shows is bounded by the top's points. A footprint that a circle fits better than a
        rectangle, and that spans nearly the circle's diameter, is an upright cylinder's. The bottom
        is the lowest point (``Views.box`` snaps it to the support).
    """
    noisy = bool(np.any(surface.sigma_m > 0.0))
    # With exact depth one stray point far outside the object would otherwise define a face.
    surface = _without_outliers(surface) if noisy else _without_gross_outliers(surface)
    if len(surface.points) < MIN_POINTS:
        raise MeasurementError("too few consistent points")
    points, sigma, spacing, ray = surface
    z = points[:, 2]
    z_noise = 3.0 * sigma * np.abs(ray[:, 2])
    if noisy:
        top, bottom = (float(v) for v in np.quantile(z, [0.995, 0.005]))
        on_top = z >= top - 2.0 * z_noise
        for _ in range(3):
            if on_top.sum() < MIN_POINTS:
                break
            top = float(np.median(z[on_top]))
            on_top = np.abs(z - top) <= z_noise
    else:
        top, bottom = float(z.max()), float(z.min())
    # Side faces from the points below the top band: a visible top would pull them inwards.
    below = z < top - z_noise - 0.01 * (top - bottom)
    if below.sum() < MIN_POINTS:
        below = np.ones(len(z), dtype=bool)
    if noisy:
        yaw = _yaw_of_least_area(points[:, :2], 0.01)
    else:
        yaw = float(np.arctan2(*geo.gravity_aligned_box(points, UP).rotation[1::-1, 0]))
    c, s = math.cos(yaw), math.sin(yaw)
    axes = np.array([[c, s], [-s, c]])
    local = points[:, :2] @ axes.T
    side = local[below]
    if noisy:
        slack = 3.0 * sigma[below, None] * np.abs(ray[below, :2] @ axes.T) + spacing[below, None]
        lo, hi = _face_bounds(
            side, slack, local[~below], np.quantile(local, 0.01, axis=0), np.quantile(local, 0.99, axis=0)
        )
    else:
        lo, hi = local.min(axis=0), local.max(axis=0)
    box_residual = float(np.median(np.min(np.abs(_face_gaps(side, lo, hi)), axis=1)))
    centre_xy, radius, circle_residual = _circle(points[below, :2])
    spans_circle = 2.0 * radius <= CYLINDER_MAX_DIAMETER_RATIO * float(np.max(hi - lo))
    if circle_residual < box_residual and spans_circle:
        x_axis, y_axis = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
        size_xy = np.array([2.0 * radius, 2.0 * radius])
    else:
        centre_xy = 0.5 * (lo + hi) @ axes
        size_xy = hi - lo
        x_axis, y_axis = np.array([c, s, 0.0]), np.array([-s, c, 0.0])
        if size_xy[1] > size_xy[0]:
            x_axis, y_axis, size_xy = y_axis, -x_axis, size_xy[::-1]
    return geo.Box3D(
        center=np.array([centre_xy[0], centre_xy[1], 0.5 * (top + bottom)]),
        size=np.array([size_xy[0], size_xy[1], top - bottom]),
        rotation=np.column_stack([x_axis, y_axis, UP]),
    )


def latest_straight_stretch(stamps: np.ndarray, centres: np.ndarray) -> slice:
    """The samples after the last reversal of the horizontal direction of travel.

    The first sample after a reversal is dropped too: the turn happened between it and the one
    before, so it may belong to either stretch.
    """
    steps = np.diff(centres[:, :2], axis=0)
    start = 0
    for i in range(len(steps) - 1, 0, -1):
        a, b = steps[i - 1], steps[i]
        norms = float(np.linalg.norm(a) * np.linalg.norm(b))
        if norms > 0.0 and float(a @ b) / norms < REVERSAL_COS:
            start = i + 1
            break
    if len(stamps) - start < MIN_TRACK_POINTS and start > 0:
        return _without_turning_ends(stamps, centres, slice(0, max(start - 1, 2)))
    return _without_turning_ends(stamps, centres, slice(start, len(stamps)))


def _without_turning_ends(stamps: np.ndarray, centres: np.ndarray, stretch: slice) -> slice:
    """``stretch`` without an end sample whose step is much slower than the stretch's median step.

    A walker that turns round within the last (or first) step of a stretch moves along its line by
    less than a full step there: no step reverses, but the chord through that sample is shorter
    than the walk. Samples are dropped only while ``MIN_TRACK_POINTS`` remain.
    """
    start, stop = stretch.start, stretch.stop
    dt = np.diff(stamps[start:stop])
    lengths = np.linalg.norm(np.diff(centres[start:stop, :2], axis=0), axis=1)
    if len(dt) < MIN_TRACK_POINTS or np.any(dt <= 0.0):
        return stretch
    speeds = lengths / dt
    typical = float(np.median(speeds))
    if typical <= 0.0:
        return stretch
    if speeds[-1] < TURN_STEP_SPEED * typical and stop - start > MIN_TRACK_POINTS:
        stop -= 1
    if speeds[0] < TURN_STEP_SPEED * typical and stop - start > MIN_TRACK_POINTS:
        start += 1
    return slice(start, stop)


def velocity(stamps: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Theil–Sen velocity (3,) m/s of centres (N, 3) over stamps (N,) seconds.

    Per axis, the median of the slopes between every two samples: a few centres pulled aside (the
    object partly hidden at that tick) do not tilt it, as they tilt a least-squares line.
    """
    first, second = np.triu_indices(len(stamps), k=1)
    dt = stamps[second] - stamps[first]
    apart = dt > 0.0
    return np.median((centres[second] - centres[first])[apart] / dt[apart, None], axis=0)


def answer_question(views: Views, question: dict) -> dict:
    """Answer one question: ``{"answer": value, "measurements": [...], "objects": [...], ...}``.

    ``question`` holds ``kind`` (distance, size, height, count, direction, motion), ``subjects``
    (labels, or a category for a count) and, for a direction, ``viewer`` (a camera name).
    """
    kind, subjects, name = question["kind"], list(question["subjects"]), question.get("id", question["kind"])
    if kind == "distance":
        a, b = (views.box(label) for label in subjects)
        value = float(np.linalg.norm(b.center - a.center))
        return {
            "answer": value,
            "measurements": [
                Measurement(name, value, "m", "distance", subjects, points=[a.center, b.center])
            ],
            "objects": [_object(label, box) for label, box in zip(subjects, (a, b), strict=True)],
        }
    if kind == "size":
        box = views.box(subjects[0])
        dims = dict(zip(("length", "width", "height"), (float(v) for v in box.size), strict=True))
        return {
            "answer": dims,
            "measurements": [
                Measurement(f"{name}.{key}", value, "m", "size", subjects) for key, value in dims.items()
            ],
            "objects": [_object(subjects[0], box)],
        }
    if kind == "height":
        box = views.box(subjects[0])
        top = float(box.center[2] + 0.5 * box.size[2]) - views.floor_height()
        return {
            "answer": top,
            "measurements": [Measurement(name, top, "m", "height", subjects)],
            "objects": [_object(subjects[0], box)],
        }
    if kind == "count":
        count, names = views.count(subjects[0])
        return {
            "answer": count,
            "measurements": [Measurement(name, count, "1", "count", names or subjects)],
        }
    if kind == "direction":
        a, b = (views.box(label) for label in subjects)
        viewer = views.latest(question["viewer"]).T_world_camera
        direction = geo.relative_direction(a.center, b.center, T_world_camera=viewer, up=UP)
        return {
            "answer": direction.primary,
            "measurements": [
                Measurement(f"{name}.azimuth", direction.azimuth_rad, "rad", "angle", subjects),
            ],
            "objects": [_object(label, box) for label, box in zip(subjects, (a, b), strict=True)],
        }
    if kind == "motion":
        stamps, centres = views.track(subjects[0])
        stretch = latest_straight_stretch(stamps, centres)
        v = velocity(stamps[stretch], centres[stretch])
        speed, heading = float(math.hypot(v[0], v[1])), float(math.atan2(v[1], v[0]))
        used = stamps[stretch]
        return {
            "answer": {
                "speed_mps": speed,
                "heading_rad": heading,
                "from_stamp": float(used[0]),
                "to_stamp": float(used[-1]),
            },
            "measurements": [
                Measurement(f"{name}.speed", speed, "m/s", "speed", subjects),
                Measurement(f"{name}.heading", heading, "rad", "angle", subjects),
            ],
            "trajectories": [Trajectory(subjects[0], used, centres[stretch])],
        }
    raise MeasurementError(f"unknown question kind {kind!r}")


def _object(label: str, box: geo.Box3D) -> Object3D:
    return Object3D(label, box.center, box.size, rotation=box.rotation)


def answer_questions(frames: Any, tools: Any, questions_json: str) -> dict:
    """Answer every question of ``questions_json`` (a JSON list) from one snapshot.

    A question may name the ``cameras`` it is measured with (default: all). Returns the keyword
    arguments of ``ReturnAnswer``: the answer is a JSON object {id: value} (a question that could
    not be answered maps to {"error": reason}); measurements, objects and trajectories of all
    questions together.
    """
    views: dict[tuple[str, ...] | None, Views] = {}
    values, measurements, objects, trajectories = {}, [], [], []
    for question in json.loads(questions_json):
        cameras = tuple(question["cameras"]) if question.get("cameras") else None
        try:
            if cameras not in views:
                views[cameras] = Views(frames, tools, cameras)
            result = answer_question(views[cameras], question)
        except MeasurementError as error:
            values[question["id"]] = {"error": str(error)}
            continue
        values[question["id"]] = result["answer"]
        measurements += result.get("measurements", [])
        trajectories += result.get("trajectories", [])
        for item in result.get("objects", []):
            if all(item.label != seen.label for seen in objects):
                objects.append(item)
    return {
        "answer": json.dumps(values, sort_keys=True),
        "measurements": measurements,
        "objects": objects,
        "trajectories": trajectories,
    }


def _text(kind: str, value: Any) -> Any:
    """The answer of one question as a planner reads it (numbers stay numbers)."""
    if kind == "size":
        return ", ".join(f"{key} {value[key]:.3f} m" for key in ("length", "width", "height"))
    if kind == "motion":
        degrees = math.degrees(value["heading_rad"])
        return (
            f"{value['speed_mps']:.3f} m/s, heading {value['heading_rad']:.3f} rad ({degrees:.1f} deg "
            "counter-clockwise from world +x)"
        )
    return value


def answer_one(frames: Any, tools: Any, question_json: str) -> dict:
    """Answer one question (a JSON object, see ``answer_question``) for ``ReturnAnswer``.

    Distances, heights and counts answer a number, a direction one of ``geo.DIRECTIONS``, sizes and
    motion a sentence; measurements, objects and trajectories carry every figure.
    """
    question = json.loads(question_json)
    result = answer_question(Views(frames, tools), question)
    return {**result, "answer": _text(question["kind"], result["answer"])}
