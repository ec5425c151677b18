"""Snapshots: the frames a query needs, decoded once into a directory of .npy files and a JSON index.

Layout of a snapshot directory (read by :mod:`spatialclaw_ros.runtime.frames` inside the kernel):

- ``index.json``: format/version, ``world_frame``, ``cameras``, ``window_s``, ``errors``,
  ``label_maps`` (camera → ``{"id": "name"}``, only cameras that published a label map) and one
  record per frame (``index``, ``camera``, ``stamp_ns``, ``stamp_s``, ``frame_id``, ``width``,
  ``height``, ``image``, ``depth``, ``labels`` (relative .npy paths, ``depth`` and ``labels``
  may be null), ``depth_registration``, ``depth_stamp_ns`` (stamp of the paired depth message,
  null without one), ``depth_expected`` (the camera sends depth: a frame without it lost its depth
  image), ``depth_unit_m`` (metres per stored depth value), ``K`` and ``T_world_camera`` (nested
  lists or null)). It is written last, atomically, so a reader never sees a half-written snapshot.
  Version 1 still: ``depth_stamp_ns``, ``depth_expected`` and ``depth_unit_m`` were added as
  optional fields (``depth_unit_m`` absent: 1).
- ``images/NNNN.npy``: ``(H, W, 3)`` uint8 RGB.
- ``depth/NNNN.npy``: ``(H, W)``, registered to the colour image: float32 metres (NaN invalid,
  ``depth_unit_m`` 1), or, when the camera's raw ``16UC1``/``mono16`` depth needed no registration,
  its uint16 millimetres as sent (0 invalid, ``depth_unit_m`` 0.001; REP-118): written without a
  conversion, which the kernel's ``Frame.depth`` makes on first use.
- ``labels/NNNN.npy``: ``(H, W)`` integer instance ids (uint8, uint16 or int32 as published),
  pixel-aligned with the colour image; the camera's ``label_maps`` entry names them.

The arrays are read-only files (mode 0444), hard links into the buffer's
:class:`~spatialclaw_ros.frames.SnapshotCache` where the filesystem allows: a frame chosen by
several queries is decoded and written once.

Convention:
    - ``K`` is the 3×3 pinhole matrix of the colour image (pixels; centre of the top-left pixel
      at (0, 0)), from the latest CameraInfo of the camera.
    - ``T_world_camera`` maps the colour camera's optical frame (REP-103) into ``world_frame``.
      Without a pose source the world frame is the optical frame of the first (oldest) frame:
      that frame's pose is the identity and the other frames have none.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import struct
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spatialclaw_ros.protocol.snapshot import FORMAT_NAME, FORMAT_VERSION, INDEX_NAME, MILLIMETRE_M

from ._buffer import FrameBuffer, SelectedFrame
from ._cache import CacheKey, MessageKey, Placement, SnapshotCache, snapshot_cache
from ._codecs import (
    decode_color,
    decode_compressed_color,
    decode_compressed_depth,
    decode_labels,
    depth_to_metres,
    image_to_numpy,
)
from ._errors import FrameDecodeError, NoFramesError, PoseLookupError
from ._poses import PoseSource

_NS = 1_000_000_000
_WRITERS = 4
#: A selection that takes every complete frame the buffer holds (to find the cache's live entries).
_ALL_WINDOW_S = 1e12
_ALL_FRAMES = 1 << 31


@dataclass(frozen=True)
class SnapshotFrame:
    """One frame of a written snapshot (arrays are on disk; paths relative to the directory).

    ``depth_stamp_ns`` is the stamp of the depth message paired with the frame (None: none);
    ``depth_expected`` says that the camera sends depth (without depth, the frame lost it);
    ``depth_unit_m`` is metres per value of the depth file (1: float32 metres; 0.001: uint16 mm).
    """

    index: int
    camera: str
    stamp_ns: int
    frame_id: str
    width: int
    height: int
    image: str
    depth: str | None
    depth_registration: str
    K: np.ndarray | None = field(repr=False)
    T_world_camera: np.ndarray | None = field(repr=False)
    labels: str | None = None
    depth_stamp_ns: int | None = None
    depth_expected: bool = False
    depth_unit_m: float = 1.0

    @property
    def stamp_s(self) -> float:
        """Stamp in seconds."""
        return self.stamp_ns / _NS


@dataclass(frozen=True)
class SnapshotIndex:
    """What :func:`write_snapshot` wrote: the directory, its frames and any per-frame problems.

    ``arrays_decoded`` counts the arrays this snapshot decoded (the others came from the cache),
    ``arrays_linked`` those placed as hard links of cache files, ``arrays_copied`` those copied
    from the cache because linking failed (the rest were written into the snapshot alone).
    """

    directory: Path
    world_frame: str
    cameras: tuple[str, ...]
    window_s: float
    frames: tuple[SnapshotFrame, ...]
    errors: tuple[str, ...]
    write_s: float
    label_maps: Mapping[str, Mapping[int, str]] = field(default_factory=dict)
    arrays_decoded: int = 0
    arrays_linked: int = 0
    arrays_copied: int = 0

    @property
    def stamps_ns(self) -> tuple[int, ...]:
        """Stamps of the frames, in snapshot order."""
        return tuple(frame.stamp_ns for frame in self.frames)


@dataclass
class _Decoded:
    """A selected frame after decoding (before poses are known)."""

    selected: SelectedFrame
    frame_id: str
    width: int
    height: int
    image: str
    depth: str | None
    K: np.ndarray | None
    depth_registration: str
    depth_unit_m: float
    labels: str | None
    errors: list[str]
    placed: list[tuple[Placement, bool]]


def _intrinsics(info: Any, width: int, height: int, camera: str, field_name: str) -> np.ndarray:
    if info is None:
        raise FrameDecodeError(camera, field_name, "no CameraInfo received")
    K = np.asarray(info.k, dtype=np.float64).reshape(3, 3)
    info_size = (int(info.width), int(info.height))
    if info_size != (0, 0) and info_size != (width, height):
        raise FrameDecodeError(
            camera, field_name, f"CameraInfo is {info_size[0]}×{info_size[1]}, image is {width}×{height}"
        )
    if not (np.all(np.isfinite(K)) and K[0, 0] > 0 and K[1, 1] > 0):
        raise FrameDecodeError(camera, field_name + ".k", "not a valid pinhole matrix")
    return K


def resample_depth(
    depth_m: np.ndarray, K_depth: np.ndarray, K_color: np.ndarray, shape: tuple[int, int]
) -> np.ndarray:
    """Depth of a camera sharing the colour camera's optical frame, resampled to the colour pixels.

    Convention: both images see the scene from the same optical centre and orientation, so a
    colour pixel ``(u, v)`` maps to depth pixel ``K_depth @ inv(K_color) @ (u, v, 1)`` (nearest
    neighbour, no skew); depth is along the common optical axis, so values carry over unchanged.
    Pixels that fall outside the depth image are NaN.
    """
    height, width = shape
    cols = np.rint(K_depth[0, 0] * (np.arange(width) - K_color[0, 2]) / K_color[0, 0] + K_depth[0, 2]).astype(
        int
    )
    rows = np.rint(
        K_depth[1, 1] * (np.arange(height) - K_color[1, 2]) / K_color[1, 1] + K_depth[1, 2]
    ).astype(int)
    valid_cols = (cols >= 0) & (cols < depth_m.shape[1])
    valid_rows = (rows >= 0) & (rows < depth_m.shape[0])
    out = depth_m[
        np.clip(rows, 0, depth_m.shape[0] - 1)[:, None], np.clip(cols, 0, depth_m.shape[1] - 1)[None, :]
    ]
    out[~valid_rows, :] = np.nan
    out[:, ~valid_cols] = np.nan
    return out


def reproject_depth(
    depth_m: np.ndarray,
    K_depth: np.ndarray,
    K_color: np.ndarray,
    T_color_depth: np.ndarray,
    shape: tuple[int, int],
) -> np.ndarray:
    """Depth of another sensor reprojected into the colour camera (z-buffered, nearest surface wins).

    Convention: every valid depth pixel is back-projected with ``K_depth`` into the depth optical
    frame, moved by ``T_color_depth`` (depth optical → colour optical, metres) and projected with
    ``K_color`` onto the nearest colour pixel; the result holds the colour-frame z (metres) and NaN
    where no point lands.
    """
    rows, cols = np.nonzero(np.isfinite(depth_m) & (depth_m > 0))
    z = depth_m[rows, cols].astype(np.float64)
    points = np.stack(
        [(cols - K_depth[0, 2]) * z / K_depth[0, 0], (rows - K_depth[1, 2]) * z / K_depth[1, 1], z], axis=0
    )
    points = T_color_depth[:3, :3] @ points + T_color_depth[:3, 3:4]
    in_front = points[2] > 1e-6
    points = points[:, in_front]
    u = np.rint(K_color[0, 0] * points[0] / points[2] + K_color[0, 2]).astype(int)
    v = np.rint(K_color[1, 1] * points[1] / points[2] + K_color[1, 2]).astype(int)
    height, width = shape
    inside = (u >= 0) & (u < width) & (v >= 0) & (v < height)
    u, v, depth = u[inside], v[inside], points[2, inside]
    out = np.full(height * width, np.inf)
    np.minimum.at(out, v * width + u, depth)
    out[np.isinf(out)] = np.nan
    return out.reshape(height, width).astype(np.float32)


def _depth_transform(
    frame: SelectedFrame, color_frame_id: str, pose_source: PoseSource | None
) -> np.ndarray | None:
    """``T_color_depth`` of a depth image in another optical frame (None: the same frame, or not known)."""
    depth_frame_id = frame.depth_message.header.frame_id
    if depth_frame_id == color_frame_id:
        return None
    if frame.T_color_depth is not None:
        return frame.T_color_depth
    if pose_source is None:
        return None
    try:
        return pose_source.relative_transform(color_frame_id, depth_frame_id, frame.stamp_ns)
    except PoseLookupError:
        return None


def _register_depth(
    frame: SelectedFrame,
    depth_m: np.ndarray,
    color_frame_id: str,
    shape: tuple[int, int],
    K_color: np.ndarray | None,
    T_color_depth: np.ndarray | None,
) -> tuple[np.ndarray, str]:
    """Depth aligned pixel for pixel with the colour image, and how it was aligned.

    Raises:
        FrameDecodeError: the depth cannot be registered (missing CameraInfo, or another optical
            frame with no known transform).
    """
    camera = frame.camera
    depth_frame_id = frame.depth_message.header.frame_id
    if depth_frame_id == color_frame_id and depth_m.shape == shape:
        return depth_m, "aligned"
    if K_color is None:
        raise FrameDecodeError(
            camera, "camera_info", "depth needs registration but the colour CameraInfo is missing"
        )
    K_depth = _intrinsics(frame.depth_info, depth_m.shape[1], depth_m.shape[0], camera, "depth.camera_info")
    if depth_frame_id == color_frame_id:
        return resample_depth(depth_m, K_depth, K_color, shape), "resampled"
    if T_color_depth is None:
        raise FrameDecodeError(
            camera,
            "depth.header.frame_id",
            f"depth frame {depth_frame_id!r} differs from colour frame {color_frame_id!r} and no transform "
            f"between them is known (set the {camera}.T_color_depth parameter or publish it on tf)",
        )
    return reproject_depth(depth_m, K_depth, K_color, T_color_depth, shape), "reprojected"


def _calibration(frame: SelectedFrame, T_color_depth: np.ndarray | None) -> str:
    """Digest of what a depth registration uses besides the messages: the CameraInfos, ``T_color_depth``."""
    digest = hashlib.blake2b(digest_size=8)
    for info in (frame.color_info, frame.depth_info):
        if info is None:
            digest.update(b"-")
        else:
            digest.update(struct.pack("<qq", int(info.width), int(info.height)))
            digest.update(np.asarray(info.k, dtype=np.float64).tobytes())
    if T_color_depth is not None:
        digest.update(np.asarray(T_color_depth, dtype=np.float64).tobytes())
    return digest.hexdigest()


def _decode_and_place(
    frame: SelectedFrame,
    index: int,
    directory: Path | None,
    pose_source: PoseSource | None,
    cache: SnapshotCache,
) -> _Decoded:
    """Put one frame's arrays in ``directory`` (decoded on a cache miss); depth/label problems: errors."""
    camera = frame.camera
    message = frame.message
    color_serial, depth_serial, labels_serial = frame.serials
    color_frame_id = message.header.frame_id
    placed: list[tuple[Placement, bool]] = []

    def at(name: str) -> Path | None:
        """Where the snapshot wants an array (None: only warming the cache)."""
        return None if directory is None else directory / name

    def cached(kind: str, other: int, variant: str = "") -> CacheKey | None:
        """The cache key of an array (None for a frame without serials, or a missing message)."""
        return (kind, color_serial, other, variant) if color_serial and (other or kind == "image") else None

    def decode_image() -> tuple[np.ndarray, tuple[int, int]]:
        rgb = decode_compressed_color(message, camera) if frame.compressed else decode_color(message, camera)
        return rgb, rgb.shape[:2]

    image = f"images/{index:04d}.npy"
    (height, width), how, decoded = cache.provide(cached("image", 0), decode_image, at(image))
    placed.append((how, decoded))
    errors: list[str] = []
    try:
        K: np.ndarray | None = _intrinsics(frame.color_info, width, height, camera, "camera_info")
    except FrameDecodeError as error:
        K = None
        errors.append(str(error))
    registration, depth, unit_m = "none", None, 1.0
    if frame.depth_message is not None:
        T_color_depth = _depth_transform(frame, color_frame_id, pose_source)

        def decode_and_register() -> tuple[np.ndarray, tuple[str, float]]:
            if frame.depth_compressed:
                depth_m = decode_compressed_depth(frame.depth_message, camera)
            else:
                pixels = image_to_numpy(frame.depth_message, camera, "depth")
                aligned = frame.depth_message.header.frame_id == color_frame_id and pixels.shape == (
                    height,
                    width,
                )
                if aligned and pixels.dtype == np.uint16:
                    return pixels, ("aligned", MILLIMETRE_M)
                depth_m = depth_to_metres(pixels)
            registered, how = _register_depth(
                frame, depth_m, color_frame_id, (height, width), K, T_color_depth
            )
            return registered, (how, 1.0)

        try:
            depth = f"depth/{index:04d}.npy"
            key = cached("depth", depth_serial, _calibration(frame, T_color_depth))
            (registration, unit_m), how, decoded = cache.provide(key, decode_and_register, at(depth))
            placed.append((how, decoded))
        except FrameDecodeError as error:
            registration, depth = "none", None
            errors.append(str(error))
    labels = None
    if frame.labels_message is not None:
        try:
            labels = f"labels/{index:04d}.npy"
            _, how, decoded = cache.provide(
                cached("labels", labels_serial),
                lambda: (decode_labels(frame.labels_message, camera, (height, width)), None),
                at(labels),
            )
            placed.append((how, decoded))
        except FrameDecodeError as error:
            labels = None
            errors.append(str(error))
    return _Decoded(
        frame, color_frame_id, width, height, image, depth, K, registration, unit_m, labels, errors, placed
    )


def _held(buffer: FrameBuffer) -> list[SelectedFrame]:
    """Every complete frame the buffer holds, oldest first."""
    try:
        return buffer.select(None, _ALL_WINDOW_S, _ALL_FRAMES)
    except NoFramesError:
        return []


def _live_keys(held: list[SelectedFrame]) -> list[MessageKey]:
    """Kind and serials of every array ``held`` frames may need (the cache's live entries)."""
    keys: list[MessageKey] = []
    for frame in held:
        color, depth, labels = frame.serials
        keys += [("image", color, 0), ("depth", color, depth), ("labels", color, labels)]
    return keys


def warm_snapshot_cache(buffer: FrameBuffer, cache: SnapshotCache | None = None) -> int:
    """Decode the buffer's key frames new to ``cache`` into it, newest first; returns how many frames.

    Removes the entries of frames that left the buffer first. Each camera's newest frame is left
    for the snapshot (it is dropped when the next one arrives unless it is a key frame), and
    nothing is pushed out: warming stops when the cache is full. Frames that cannot be decoded
    are skipped (a snapshot reports them). ``cache`` defaults to the buffer's own.
    """
    cache = snapshot_cache(buffer) if cache is None else cache
    held = _held(buffer)
    cache.retain(_live_keys(held))
    newest: dict[str, int] = {}
    for frame in held:
        newest[frame.camera] = frame.stamp_ns
    warmed = 0
    for frame in reversed(held):
        color_serial = frame.serials[0]
        if not color_serial or frame.stamp_ns == newest[frame.camera]:
            continue
        if cache.holds(("image", color_serial, 0, "")):
            continue
        if not cache.has_room(_decoded_bytes(frame)):
            break
        before = cache.bytes
        try:
            _decode_and_place(frame, 0, None, buffer.pose_source, cache)
        except FrameDecodeError:
            continue
        if cache.bytes <= before:
            break  # no room after all
        warmed += 1
    return warmed


def _decoded_bytes(frame: SelectedFrame) -> int:
    """About what a frame's arrays take decoded: its payloads, depth twice (16-bit → float32)."""

    def size(message: Any) -> int:
        if message is None:
            return 0
        data = message.data
        return data.nbytes if isinstance(data, memoryview) else len(data)

    return size(frame.message) + 2 * size(frame.depth_message) + size(frame.labels_message)


_WARMERS: weakref.WeakKeyDictionary[SnapshotCache, threading.Thread] = weakref.WeakKeyDictionary()
_WARMERS_LOCK = threading.Lock()


def _warm_periodically(
    buffer_ref: weakref.ref[FrameBuffer], cache_ref: weakref.ref[SnapshotCache], period_s: float
) -> None:
    """Warm the cache every ``period_s`` until the buffer or the cache is gone (holds neither in between)."""
    while True:
        time.sleep(period_s)
        buffer, cache = buffer_ref(), cache_ref()
        if buffer is None or cache is None:
            return
        # A failed write (a full disk): snapshots write their arrays alone; try again next period.
        with contextlib.suppress(OSError):
            warm_snapshot_cache(buffer, cache)
        del buffer, cache


def _start_warming(buffer: FrameBuffer, cache: SnapshotCache) -> None:
    """Start the cache's background warmer, once (see :class:`SnapshotCache` ``warm_period_s``)."""
    if cache.warm_period_s is None:
        return
    with _WARMERS_LOCK:
        if cache in _WARMERS:
            return
        thread = threading.Thread(
            target=_warm_periodically,
            args=(weakref.ref(buffer), weakref.ref(cache), cache.warm_period_s),
            name="snapshot-cache-warmer",
            daemon=True,
        )
        _WARMERS[cache] = thread
    thread.start()


def _poses(
    decoded: list[_Decoded], pose_source: PoseSource | None, target_frame: str, errors: list[str]
) -> tuple[str, list[np.ndarray | None]]:
    """World frame of the snapshot and ``T_world_camera`` of each decoded frame (see module docstring)."""
    poses: list[np.ndarray | None] = [None] * len(decoded)
    world_frame = ""
    if pose_source is not None:
        for position, item in enumerate(decoded):
            frame = item.selected
            try:
                T_world_camera, frame_world = pose_source.camera_pose(
                    frame.camera, item.frame_id, frame.stamp_ns, target_frame
                )
            except PoseLookupError as error:
                errors.append(f"camera {frame.camera!r}: no pose at {frame.stamp_ns / _NS:.3f} s: {error}")
                continue
            if world_frame and frame_world != world_frame:
                errors.append(f"camera {frame.camera!r}: pose in {frame_world!r}, not in {world_frame!r}")
                continue
            world_frame = frame_world
            poses[position] = np.asarray(T_world_camera, dtype=np.float64)
    if world_frame:
        return world_frame, poses
    if target_frame:
        errors.append(
            f"no camera pose in {target_frame!r}: the world frame is the first frame's optical frame"
        )
    poses[0] = np.eye(4)
    return decoded[0].frame_id, poses


def _matrix(value: np.ndarray | None) -> list[list[float]] | None:
    return None if value is None else [[float(x) for x in row] for row in value]


def write_snapshot(
    buffer: FrameBuffer,
    directory: str | Path,
    cameras: Sequence[str] | None = None,
    window_s: float = 0.0,
    max_frames: int = 32,
    target_frame: str = "",
    cache: SnapshotCache | None = None,
) -> SnapshotIndex:
    """Decode the frames a query needs and write them once into ``directory`` (see module docstring).

    Args:
        buffer: the frame buffer to select from.
        directory: the per-query directory (created if missing; must not hold a snapshot yet).
        cameras: camera names (``None`` or empty: every camera with frames).
        window_s: seconds back from the newest stamp (0: the latest frame of each camera).
        max_frames: most frames in the snapshot, shared between cameras (each camera's latest
            frame included, the rest uniform in time).
        target_frame: frame to express camera poses in ("" for the pose source's own world frame).
        cache: where decoded arrays are kept between snapshots (default: the buffer's own,
            :func:`~spatialclaw_ros.frames.snapshot_cache`); entries of frames that left the
            buffer are removed first, and the cache's background warming starts (once) after.

    Returns:
        The written index. Frames whose image cannot be decoded are left out, and depth, labels
        or poses that cannot be had are omitted; each such problem is listed in ``errors``.

    Raises:
        NoFramesError: no frame in the selection, or none of them could be decoded.
        FileExistsError: ``directory`` already holds a snapshot.
        ValueError: ``window_s < 0`` or ``max_frames < 1``.
    """
    started = time.perf_counter()
    selected = buffer.select(cameras, window_s, max_frames)
    directory = Path(directory)
    if (directory / INDEX_NAME).exists():
        raise FileExistsError(f"{directory} already holds a snapshot")
    (directory / "images").mkdir(parents=True, exist_ok=True)
    (directory / "depth").mkdir(exist_ok=True)
    (directory / "labels").mkdir(exist_ok=True)
    pose_source = buffer.pose_source
    cache = snapshot_cache(buffer) if cache is None else cache
    cache.retain(_live_keys(_held(buffer)))
    with ThreadPoolExecutor(max_workers=min(_WRITERS, len(selected))) as pool:
        futures = [
            pool.submit(_decode_and_place, frame, position, directory, pose_source, cache)
            for position, frame in enumerate(selected)
        ]
    decoded: list[_Decoded] = []
    errors: list[str] = []
    for future in futures:
        try:
            item = future.result()
        except FrameDecodeError as error:
            errors.append(str(error))
            continue
        decoded.append(item)
        errors.extend(item.errors)
    names = tuple(dict.fromkeys(frame.camera for frame in selected))
    if not decoded:
        raise NoFramesError(names, window_s, "no selected frame could be decoded: " + "; ".join(errors))
    world_frame, poses = _poses(decoded, pose_source, target_frame, errors)
    frames = tuple(
        SnapshotFrame(
            index=position,
            camera=item.selected.camera,
            stamp_ns=item.selected.stamp_ns,
            frame_id=item.frame_id,
            width=item.width,
            height=item.height,
            image=item.image,
            depth=item.depth,
            depth_registration=item.depth_registration,
            depth_unit_m=item.depth_unit_m,
            K=item.K,
            T_world_camera=pose,
            labels=item.labels,
            depth_stamp_ns=item.selected.depth_stamp_ns,
            depth_expected=item.selected.depth_expected,
        )
        for position, (item, pose) in enumerate(zip(decoded, poses, strict=True))
    )
    label_maps: dict[str, dict[int, str]] = {}
    for item in decoded:
        if item.selected.label_map:
            label_maps.setdefault(item.selected.camera, dict(item.selected.label_map))
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "world_frame": world_frame,
        "cameras": list(names),
        "window_s": window_s,
        "errors": errors,
        "label_maps": {
            camera: {str(i): name for i, name in names.items()} for camera, names in label_maps.items()
        },
        "frames": [
            {
                "index": frame.index,
                "camera": frame.camera,
                "stamp_ns": frame.stamp_ns,
                "stamp_s": frame.stamp_s,
                "frame_id": frame.frame_id,
                "width": frame.width,
                "height": frame.height,
                "image": frame.image,
                "depth": frame.depth,
                "labels": frame.labels,
                "depth_registration": frame.depth_registration,
                "depth_unit_m": frame.depth_unit_m,
                "depth_stamp_ns": frame.depth_stamp_ns,
                "depth_expected": frame.depth_expected,
                "K": _matrix(frame.K),
                "T_world_camera": _matrix(frame.T_world_camera),
            }
            for frame in frames
        ],
    }
    placed = [placement for item in decoded for placement in item.placed]
    partial = directory / (INDEX_NAME + ".partial")
    partial.write_text(json.dumps(document, indent=1, allow_nan=False))
    partial.chmod(0o444)
    partial.replace(directory / INDEX_NAME)
    _start_warming(buffer, cache)
    return SnapshotIndex(
        directory=directory,
        world_frame=world_frame,
        cameras=names,
        window_s=window_s,
        frames=frames,
        errors=tuple(errors),
        write_s=time.perf_counter() - started,
        label_maps=label_maps,
        arrays_decoded=sum(fresh for _, fresh in placed),
        arrays_linked=sum(how == "linked" for how, _ in placed),
        arrays_copied=sum(how == "copied" for how, _ in placed),
    )
