"""Kernel program: measure objects seen by several fixed cameras with depth, from segmentation masks.

This file is sent as the text of a ``code`` cell (followed by one call, see
``spatialclaw_ros.sim.programs``); in the kernel it sees only numpy, scipy, ``spatialclaw_ros.geometry``
and the runtime's answer types and perception error, and it takes ``frames`` and ``tools`` as arguments.
It reads the frames, asks the tools for masks and puts the answers together; the estimators are
those of ``spatialclaw_ros.geometry`` (their docstrings give the methods).

Method:
    Every object is measured from all cameras at once. Per camera, ``tools.track`` gives the
    object's mask in each frame of the window; each pixel's depth is the median over the frames
    that show the object there (``geo.median_over_time``: the cameras stand still), which averages
    sensor noise and ignores a passer-by hiding the pixel in some frames. Back-projected and moved
    into the world by the frames' poses (``geo.surface_from_depth``), the pixels of all cameras
    form one surface, to which an upright box or cylinder is fitted (``geo.fit_upright_box``),
    after eroding masks by one pixel when the depth is noisy (mixed depth at edges; noisy: the
    depth's spread over time). No camera sees where an object touches its support, so its bottom
    rests on the surface below it (``geo.support_height``, ``geo.rest_on_support``) when the gap
    is within a few pixels' footprint. A moving object is located per stamp (the cameras of a rig
    publish each tick with one stamp, and ticks that lost a camera's frame are left out when
    enough remain); its velocity is ``geo.theil_sen_velocity`` over the track's
    ``geo.latest_straight_stretch``.

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
from typing import Any

import numpy as np
from scipy import ndimage

from spatialclaw_ros import geometry as geo
from spatialclaw_ros.runtime.answer import Measurement, Object3D, Trajectory
from spatialclaw_ros.runtime.tools import PerceptionError

# Robust sigma of a median pixel's depth over time (metres) above which a camera counts as noisy.
NOISY_DEPTH_M = 5e-5
# An object's bottom rests on the surface below when the gap is at most this many pixel footprints.
SUPPORT_GAP_PX = 4.0
# Fewest points that make an object's surface.
MIN_POINTS = 10


class MeasurementError(RuntimeError):
    """The frames do not hold what a measurement needs (no pose, no depth, object not seen)."""


def _fused(parts: list[geo.Surface], label: str) -> geo.Surface:
    if sum(len(part.points) for part in parts) < MIN_POINTS:
        raise MeasurementError(f"no camera sees enough of {label!r}")
    return geo.fuse_surfaces(parts)


def _upright_box(surface: geo.Surface) -> geo.Box3D:
    try:
        return geo.fit_upright_box(surface)
    except ValueError as error:
        raise MeasurementError(str(error)) from None


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
        tools: the kernel's ``tools`` (``track`` and ``segment`` are used).
        cameras: the camera names to use; None: all.
    """

    def __init__(self, frames: Any, tools: Any, cameras: Sequence[str] | None = None) -> None:
        self.tools = tools
        names = [c for c in frames.cameras if cameras is None or c in cameras]
        self._by_camera = {camera: complete_frames(frames.by_camera(camera)) for camera in names}
        self.cameras = [camera for camera, runs in self._by_camera.items() if runs]
        if not self.cameras:
            raise MeasurementError("no frame has depth, intrinsics and a pose")
        self._depth: dict[str, geo.TemporalMedian] = {}
        self._scene_points: np.ndarray | None = None
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

    def _over_time(self, camera: str) -> geo.TemporalMedian:
        if camera not in self._depth:
            stack = np.stack([np.asarray(f.depth, dtype=np.float64) for f in self.by_camera(camera)])
            self._depth[camera] = geo.median_over_time(stack)
        return self._depth[camera]

    def depth(self, camera: str) -> np.ndarray:
        """(H, W) metres: per-pixel median over the camera's frames."""
        return self._over_time(camera).median

    def depth_sigma(self, camera: str) -> np.ndarray:
        """(H, W) metres: uncertainty of :meth:`depth` from the temporal spread (0 with one frame)."""
        return self._over_time(camera).sigma

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
        keep = masks.sum(axis=0) * 2 >= len(runs)
        depth = np.full(keep.shape, np.nan)
        sigma = np.zeros(keep.shape)
        if not keep.any():
            return depth, sigma
        rows, cols = np.flatnonzero(keep.any(axis=1)), np.flatnonzero(keep.any(axis=0))
        window = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        stack = np.stack([np.asarray(frame.depth, dtype=np.float64)[window] for frame in runs])
        stack[~masks[(slice(None), *window)]] = np.nan
        over_time = geo.median_over_time(stack)
        inside = keep[window]
        depth[window] = np.where(inside, over_time.median, np.nan)
        sigma[window] = np.where(inside, over_time.sigma, 0.0)
        return depth, sigma

    def points(self, label: str) -> geo.Surface:
        """The surface of a static object, fused over every camera that sees it."""
        parts = []
        for camera in self.cameras:
            frame = self.latest(camera)
            depth, sigma = self.object_depth(camera, label)
            parts.append(geo.surface_from_depth(depth, sigma, frame.K, frame.T_world_camera))
        return _fused(parts, label)

    def scene_points(self) -> np.ndarray:
        """(N, 3) world points of every pixel the cameras see (denoised depth)."""
        if self._scene_points is None:
            clouds = []
            for camera in self.cameras:
                frame = self.latest(camera)
                local = geo.backproject(self.depth(camera), frame.K)
                clouds.append(geo.transform_points(frame.T_world_camera, local))
            self._scene_points = np.concatenate(clouds)
        return self._scene_points

    def box(self, label: str) -> geo.Box3D:
        """The object's upright box in the world, its bottom on its support (see the module docstring)."""
        if label not in self._boxes:
            self._boxes[label] = self._rested_box(self.points(label))
        return self._boxes[label]

    def _rested_box(self, surface: geo.Surface) -> geo.Box3D:
        fit = _upright_box(surface)
        reach = SUPPORT_GAP_PX * float(np.max(surface.spacing_m)) + 3.0 * float(np.median(surface.sigma_m))
        return geo.rest_on_support(fit, geo.support_height(fit, self.scene_points()), reach)

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
                # One frame's depth: the pixel's own temporal spread, not that of the median.
                runs = len(self.by_camera(frame.camera))
                sigma = self.depth_sigma(frame.camera) * math.sqrt(runs) / 1.25
                depth = np.asarray(frame.depth, dtype=np.float64)
                parts.append(geo.surface_from_depth(depth, sigma, frame.K, frame.T_world_camera, seen))
            try:
                fits[stamp] = _upright_box(_fused(parts, label)).center
            except MeasurementError:
                continue
        complete = [stamp for stamp in fits if len(by_stamp[stamp]) == len(self.cameras)]
        stamps = complete if len(complete) >= 2 else list(fits)
        if len(stamps) < 2:
            raise MeasurementError(f"{label!r} is seen at {len(stamps)} stamps; a velocity needs 2 or more")
        return np.array(stamps), np.array([fits[stamp] for stamp in stamps])


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
        direction = geo.relative_direction(a.center, b.center, T_world_camera=viewer, up=geo.UP_BODY)
        return {
            "answer": direction.primary,
            "measurements": [
                Measurement(f"{name}.azimuth", direction.azimuth_rad, "rad", "angle", subjects),
            ],
            "objects": [_object(label, box) for label, box in zip(subjects, (a, b), strict=True)],
        }
    if kind == "motion":
        stamps, centres = views.track(subjects[0])
        stretch = geo.latest_straight_stretch(stamps, centres)
        v = geo.theil_sen_velocity(stamps[stretch], centres[stretch])
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
