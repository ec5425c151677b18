"""The kernel's ``frames``: a time-ordered sequence of ``Frame`` over a query snapshot's memory-mapped arrays.

Reads the directory that :func:`spatialclaw_ros.frames.write_snapshot` wrote (``index.json`` plus
``.npy`` arrays). Arrays are opened on first access, memory-mapped read-only: nothing is copied
until a cell computes with them, except depth the snapshot kept in the sensor's millimetres, which
is converted to metres once, on first access. Imports only numpy and the standard library.

Convention:
    - ``Frame.stamp`` is seconds of the clock that stamped the image (ROS time).
    - ``Frame.image`` is ``(H, W, 3)`` uint8 RGB; ``Frame.depth`` is ``(H, W)`` float32 metres
      along the optical axis, registered to the image, NaN where invalid, or ``None``.
    - ``Frame.depth_source`` is ``"sensor"`` (the camera's depth topic) or ``None`` without depth;
      ``Frame.depth_offset_s`` is the depth image's stamp minus the colour image's (seconds), or
      ``None``; ``Frame.depth_missing`` is True when the camera sends depth but this frame has none.
    - ``Frame.labels`` is ``(H, W)`` integer instance ids from a simulator's segmentation image,
      pixel-aligned with the image, or ``None``; ``Frame.label_map`` names them (id → name,
      empty when the camera published no label map).
    - ``Frame.K`` is the 3×3 pinhole matrix in pixels (pixel (u, v) = (column, row), centre of
      the top-left pixel at (0, 0)), or ``None`` without a CameraInfo.
    - ``Frame.T_world_camera`` is 4×4 and maps points of the camera optical frame (REP-103:
      x right, y down, z forward) into ``Frame.world_frame`` (metres), or ``None`` when the pose
      at that stamp is unknown.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, overload

import numpy as np

from spatialclaw_ros.protocol.snapshot import FORMAT_NAME, FORMAT_VERSION, INDEX_NAME, depth_metres

_PREVIEW_HEAD = 8
_PREVIEW_TAIL = 4
_PREVIEW_NAMES = 6


class SnapshotError(ValueError):
    """A snapshot directory whose index or arrays are missing or inconsistent."""


def _matrix(value: Any, shape: tuple[int, int], where: str) -> np.ndarray | None:
    if value is None:
        return None
    array = np.array(value, dtype=np.float64)
    if array.shape != shape or not np.all(np.isfinite(array)):
        raise SnapshotError(f"{where}: expected a finite {shape[0]}×{shape[1]} matrix")
    array.setflags(write=False)
    return array


def _label_map(value: Any, where: str) -> dict[int, str]:
    """``{"id": "name"}`` of the index as id → name (``{}`` for a missing map)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SnapshotError(f"{where}: the label map is not an object")
    try:
        label_map = {int(key): name for key, name in value.items()}
    except (TypeError, ValueError) as error:
        raise SnapshotError(f"{where}: label map key is not an integer id: {error}") from error
    if not all(isinstance(name, str) for name in label_map.values()):
        raise SnapshotError(f"{where}: label map names must be strings")
    return label_map


def _relative_file(root: Path, value: Any, where: str) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise SnapshotError(f"{where}: path {value!r} is not a string")
    relative = PurePosixPath(str(value))
    if relative.is_absolute() or ".." in relative.parts:
        raise SnapshotError(f"{where}: path {value!r} leaves the snapshot directory")
    return root / relative


class Frame:
    """One camera image of the snapshot, with its depth, labels, intrinsics and pose (see module docstring).

    ``label_map`` (instance id → name) is the camera's label map, a copy per frame.
    ``depth_source`` is ``"sensor"`` when ``depth`` came from the camera's depth topic, ``None``
    without depth. ``depth_offset_s`` is the depth image's stamp minus the colour image's stamp
    (seconds; the depth was taken that much later), ``None`` without depth. ``depth_missing`` is
    True when the camera sends depth but this frame has none (its depth image was lost or could
    not be registered).
    """

    __slots__ = (
        "K",
        "T_world_camera",
        "_depth",
        "_depth_path",
        "_depth_unit_m",
        "_height",
        "_image",
        "_image_path",
        "_labels",
        "_labels_path",
        "_width",
        "camera",
        "depth_missing",
        "depth_offset_s",
        "depth_source",
        "frame_id",
        "index",
        "label_map",
        "stamp",
        "world_frame",
    )

    def __init__(
        self,
        root: Path,
        record: dict[str, Any],
        world_frame: str,
        label_map: dict[int, str] | None = None,
    ) -> None:
        where = f"frame {record.get('index', '?')}"
        try:
            self.index = int(record["index"])
            self.camera = str(record["camera"])
            self.stamp = int(record["stamp_ns"]) / 1e9
            self.frame_id = str(record["frame_id"])
            self._width = int(record["width"])
            self._height = int(record["height"])
            image_path = _relative_file(root, record["image"], where)
            self._depth_path = _relative_file(root, record.get("depth"), where)
            self._depth_unit_m = float(record.get("depth_unit_m", 1.0))
            self._labels_path = _relative_file(root, record.get("labels"), where)
            self.K = _matrix(record.get("K"), (3, 3), where + " K")
            self.T_world_camera = _matrix(record.get("T_world_camera"), (4, 4), where + " T_world_camera")
            depth_stamp_ns = record.get("depth_stamp_ns")
            has_depth = self._depth_path is not None
            self.depth_source: str | None = "sensor" if has_depth else None
            self.depth_offset_s: float | None = (
                (int(depth_stamp_ns) - int(record["stamp_ns"])) / 1e9
                if has_depth and depth_stamp_ns is not None
                else None
            )
            self.depth_missing = bool(record.get("depth_expected", False)) and not has_depth
        except SnapshotError:
            raise
        except (KeyError, TypeError, ValueError) as error:
            raise SnapshotError(f"{where}: malformed record in {INDEX_NAME}: {error}") from error
        if image_path is None:
            raise SnapshotError(f"{where}: the record names no image")
        if not (self._depth_unit_m > 0 and np.isfinite(self._depth_unit_m)):
            raise SnapshotError(f"{where}: depth_unit_m must be a positive number, got {self._depth_unit_m}")
        self._image_path = image_path
        self.world_frame = world_frame
        self.label_map: dict[int, str] = {} if label_map is None else label_map
        self._image: np.ndarray | None = None
        self._depth: np.ndarray | None = None
        self._labels: np.ndarray | None = None

    def _load(
        self, path: Path, shape: tuple[int, ...], dtypes: tuple[str, ...] | None, what: str
    ) -> np.ndarray:
        """Memory-map ``path`` read-only; ``dtypes`` None accepts any integer type."""
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as error:
            raise SnapshotError(f"frame {self.index}: cannot open {what} {path.name}: {error}") from error
        dtype_ok = array.dtype.kind in "iu" if dtypes is None else array.dtype.name in dtypes
        if array.shape != shape or not dtype_ok:
            expected = "integer" if dtypes is None else " or ".join(dtypes)
            raise SnapshotError(
                f"frame {self.index}: {what} is {array.dtype} {array.shape}, expected {expected} {shape}"
            )
        return array

    @property
    def image(self) -> np.ndarray:
        """``(H, W, 3)`` uint8 RGB, memory-mapped read-only."""
        if self._image is None:
            shape = (self._height, self._width, 3)
            self._image = self._load(self._image_path, shape, ("uint8",), "image")
        return self._image

    @property
    def depth(self) -> np.ndarray | None:
        """``(H, W)`` float32 metres, NaN invalid, read-only; ``None`` without depth."""
        if self._depth is None and self._depth_path is not None:
            shape = (self._height, self._width)
            stored = self._load(self._depth_path, shape, ("float32", "uint16"), "depth")
            self._depth = depth_metres(stored, self._depth_unit_m)
        return self._depth

    @property
    def labels(self) -> np.ndarray | None:
        """``(H, W)`` integer instance ids (simulator segmentation), memory-mapped read-only, or ``None``.

        ``label_map`` names the ids: ``frame.labels == id`` is that instance's mask.
        """
        if self._labels is None and self._labels_path is not None:
            shape = (self._height, self._width)
            self._labels = self._load(self._labels_path, shape, None, "labels")
        return self._labels

    def _depth_summary(self) -> str:
        if self._depth_path is None:
            return "None (missing: the camera sends depth)" if self.depth_missing else "None"
        offset = "" if self.depth_offset_s is None else f", offset {self.depth_offset_s * 1000:+.1f} ms"
        return f"{self._height}×{self._width} float32 m ({self.depth_source}{offset})"

    def __repr__(self) -> str:
        parts = [
            f"index={self.index}",
            f"camera={self.camera!r}",
            f"stamp={self.stamp:.3f}",
            f"image={self._height}×{self._width}×3 uint8 RGB",
            "depth=" + self._depth_summary(),
        ]
        if self._labels_path is not None:
            names = ", ".join(f"{i}: {name!r}" for i, name in list(self.label_map.items())[:_PREVIEW_NAMES])
            more = len(self.label_map) - _PREVIEW_NAMES
            names += f", … {more} more" if more > 0 else ""
            parts.append(f"labels={self._height}×{self._width} instance ids")
            parts.append(f"label_map={{{names}}}")
        if self.K is None:
            parts.append("K=None")
        else:
            K = self.K
            parts.append(f"K=(fx={K[0, 0]:.1f}, fy={K[1, 1]:.1f}, cx={K[0, 2]:.1f}, cy={K[1, 2]:.1f})")
        parts.append(f"frame_id={self.frame_id!r}")
        if self.T_world_camera is None:
            parts.append("T_world_camera=None")
        else:
            x, y, z = self.T_world_camera[:3, 3]
            parts.append(f"T_world_camera=(camera at [{x:.3f}, {y:.3f}, {z:.3f}] m)")
        parts.append(f"world_frame={self.world_frame!r}")
        return "Frame(" + ", ".join(parts) + ")"


class Frames(Sequence[Frame]):
    """Time-ordered frames of a snapshot; slicing, ``by_camera`` and ``between`` give ``Frames`` again."""

    def __init__(self, frames: Sequence[Frame]) -> None:
        self._frames = tuple(frames)

    @property
    def cameras(self) -> list[str]:
        """Camera names, in order of first appearance."""
        return list(dict.fromkeys(frame.camera for frame in self._frames))

    def by_camera(self, name: str) -> Frames:
        """The frames of camera ``name``.

        Raises:
            KeyError: no frame of that camera (the message lists the cameras there are).
        """
        chosen = [frame for frame in self._frames if frame.camera == name]
        if not chosen:
            raise KeyError(f"no frames of camera {name!r}; cameras: {self.cameras}")
        return Frames(chosen)

    def between(self, t0: float, t1: float) -> Frames:
        """The frames with ``t0 <= stamp <= t1`` (seconds, same clock as ``Frame.stamp``).

        Raises:
            ValueError: ``t0 > t1``.
        """
        if t0 > t1:
            raise ValueError(f"between(t0, t1) needs t0 <= t1, got {t0} > {t1}")
        return Frames([frame for frame in self._frames if t0 <= frame.stamp <= t1])

    def __len__(self) -> int:
        return len(self._frames)

    @overload
    def __getitem__(self, item: int) -> Frame: ...

    @overload
    def __getitem__(self, item: slice) -> Frames: ...

    def __getitem__(self, item: int | slice) -> Frame | Frames:
        if isinstance(item, slice):
            return Frames(self._frames[item])
        return self._frames[item]

    def __iter__(self) -> Iterator[Frame]:
        return iter(self._frames)

    def __repr__(self) -> str:
        if not self._frames:
            return "Frames(0 frames)"
        first, last = self._frames[0].stamp, self._frames[-1].stamp
        counts = ", ".join(f"{name}: {sum(f.camera == name for f in self._frames)}" for name in self.cameras)
        with_depth = sum(frame._depth_path is not None for frame in self._frames)
        with_labels = sum(frame._labels_path is not None for frame in self._frames)
        missing = sum(frame.depth_missing for frame in self._frames)
        with_pose = sum(frame.T_world_camera is not None for frame in self._frames)
        labels = f"labels {with_labels}/{len(self._frames)}; " if with_labels else ""
        lost = f" ({missing} missing)" if missing else ""
        lines = [
            f"Frames({len(self._frames)} frames; cameras {{{counts}}}; stamps {first:.3f} … {last:.3f} s "
            f"({last - first:.3f} s); depth {with_depth}/{len(self._frames)}{lost}; {labels}"
            f"T_world_camera {with_pose}/{len(self._frames)}; world_frame {self._frames[0].world_frame!r})"
        ]
        count = len(self._frames)
        positions = list(range(count))
        if count > _PREVIEW_HEAD + _PREVIEW_TAIL:
            positions = [*positions[:_PREVIEW_HEAD], -1, *positions[-_PREVIEW_TAIL:]]
        for position in positions:
            if position < 0:
                lines.append(f"  … {count - _PREVIEW_HEAD - _PREVIEW_TAIL} more …")
            else:
                lines.append(f"  [{position}] {self._frames[position]!r}")
        return "\n".join(lines)


def load_frames(snapshot_dir: str | Path) -> Frames:
    """Open a snapshot directory (arrays stay on disk until used).

    Raises:
        SnapshotError: no index, an index of another format or version, or malformed records.
    """
    root = Path(snapshot_dir)
    index_path = root / INDEX_NAME
    try:
        document = json.loads(index_path.read_text())
    except FileNotFoundError as error:
        raise SnapshotError(f"{root} holds no snapshot ({INDEX_NAME} is missing)") from error
    except (OSError, json.JSONDecodeError) as error:
        raise SnapshotError(f"cannot read {index_path}: {error}") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise SnapshotError(f"{index_path} is not a {FORMAT_NAME} index")
    if document.get("version") != FORMAT_VERSION:
        raise SnapshotError(f"{index_path} has version {document.get('version')}, expected {FORMAT_VERSION}")
    world_frame = str(document.get("world_frame", ""))
    records = document.get("frames")
    if not isinstance(records, list):
        raise SnapshotError(f"{index_path} has no frame list")
    label_maps = document.get("label_maps") or {}
    if not isinstance(label_maps, dict):
        raise SnapshotError(f"{index_path}: label_maps is not an object")
    maps = {
        str(camera): _label_map(value, f"label map of {camera!r}") for camera, value in label_maps.items()
    }
    frames = []
    for record in records:
        if not isinstance(record, dict):
            raise SnapshotError(f"{index_path}: frame record {record!r} is not an object")
        frames.append(Frame(root, record, world_frame, dict(maps.get(str(record.get("camera")), {}))))
    frames.sort(key=lambda frame: (frame.stamp, frame.index))
    return Frames(frames)
