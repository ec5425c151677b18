"""``tools.*`` in the kernel: segmentation, tracking, depth, reconstruction, served by the perception service.

The models never run inside a kernel: every call is one HTTP request to the perception service, through
the relay the node serves on ``perception.sock`` in the kernel's services directory (the node adds the
query's identity and any bearer token; the kernel never sees either).
Requests and replies are ``.npz`` archives (numpy arrays plus one JSON ``__meta__`` member), never
pickle. The service caches replies by content hash, so repeating a call on the same frame is cheap.

Where the service is: :func:`configure`, else the environment variables
``SPATIALCLAW_PERCEPTION_SOCKET`` or ``SPATIALCLAW_PERCEPTION_URL`` with ``SPATIALCLAW_PERCEPTION_TOKEN``
(outside a query's kernel), else the relay's socket in ``$SPATIALCLAW_SERVICES``, else
``/run/spatialclaw/perception.sock``.

Every failure is a :class:`PerceptionError` whose ``code`` is one of the answer's error names
(``PERCEPTION_UNAVAILABLE``, ``TIMEOUT``, ``INVALID_QUERY``) or ``PERCEPTION_FAILED``.

Convention:
    Images are (H, W, 3) uint8 RGB. Masks are (H, W) bool on the frame's pixel grid. Boxes are
    ``(x_min, y_min, x_max, y_max)`` in pixels, pixel (row r, column c) centred at (u, v) = (c, r).
    Depth is metres along the optical axis (z), NaN where unknown. ``T_world_camera`` maps
    camera-optical-frame points (REP-103: x right, y down, z forward) into the snapshot's world frame.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from spatialclaw_ros.geometry import backproject, transform_points
from spatialclaw_ros.protocol.perception import (
    DEFAULT_SOCKET,
    DEFAULT_TIMEOUT_S,
    RELAY_SOCKET_NAME,
    SOCKET_ENV,
    TOKEN_ENV,
    URL_ENV,
    PerceptionClient,
    PerceptionError,
    content_key,
    decode_message,
    encode_message,
)
from spatialclaw_ros.runtime.namespace import SERVICES_ENV

__all__ = [
    "Depth",
    "PerceptionClient",
    "PerceptionError",
    "Reconstruction",
    "Segmentation",
    "Tracks",
    "configure",
    "content_key",
    "decode_message",
    "depth",
    "encode_message",
    "masked_points",
    "reconstruct",
    "segment",
    "track",
]


@dataclass(frozen=True, eq=False)
class Segmentation:
    """Instances of one prompt in one frame, best score first.

    Attributes:
        prompt: the text prompt.
        frame_index: ``Frame.index`` of the segmented frame.
        masks: (N, H, W) bool, one per instance.
        scores: (N,) float32 in [0, 1].
        boxes: (N, 4) float32 ``(x_min, y_min, x_max, y_max)`` pixels.
        labels: N names (the prompt for SAM3, the label map's name for label images).
        backend: which backend answered (``sam3`` or ``labels``).
    """

    prompt: str
    frame_index: int
    masks: np.ndarray
    scores: np.ndarray
    boxes: np.ndarray
    labels: tuple[str, ...]
    backend: str

    def __len__(self) -> int:
        """Number of instances."""
        return int(self.masks.shape[0])

    def __iter__(self) -> Iterator[np.ndarray]:
        """The masks, best first."""
        return iter(self.masks)

    def __repr__(self) -> str:
        """Short summary for the model's observations."""
        scores = ", ".join(f"{score:.2f}" for score in self.scores[:8])
        return (
            f"Segmentation({self.prompt!r}, frame {self.frame_index}: {len(self)} instances, "
            f"scores [{scores}], masks {tuple(self.masks.shape)}, backend {self.backend})"
        )

    def union(self) -> np.ndarray:
        """(H, W) bool: pixels of any instance."""
        return self.masks.any(axis=0) if len(self) else np.zeros(self.masks.shape[1:], dtype=bool)


@dataclass(frozen=True, eq=False)
class Tracks:
    """Objects of one prompt followed over frames; object j is the same physical object in every frame.

    Attributes:
        prompt: the text prompt.
        frame_indices: (F,) ``Frame.index`` of each tracked frame, in the order given.
        object_ids: (M,) int, stable ids.
        masks: (M, F, H, W) bool; all False where the object is not seen.
        present: (M, F) bool, whether object j was found in frame f.
        scores: (M, F) float32, NaN where absent.
        boxes: (M, F, 4) float32 pixels, NaN where absent.
        backend: which backend answered.
    """

    prompt: str
    frame_indices: np.ndarray
    object_ids: np.ndarray
    masks: np.ndarray
    present: np.ndarray
    scores: np.ndarray
    boxes: np.ndarray
    backend: str

    def __len__(self) -> int:
        """Number of objects."""
        return int(self.object_ids.shape[0])

    def __repr__(self) -> str:
        """Short summary for the model's observations."""
        counts = zip(self.object_ids, self.present.sum(1), strict=True)
        seen = ", ".join(f"{int(i)}: {int(n)} frames" for i, n in counts)
        return f"Tracks({self.prompt!r}, {len(self)} objects over {len(self.frame_indices)} frames [{seen}])"


@dataclass(frozen=True, eq=False)
class Depth:
    """A depth map on a frame's pixel grid; ``np.asarray(d)`` gives ``depth_m``.

    Attributes:
        depth_m: (H, W) float32 metres along the optical axis, NaN where unknown (relative units
            when ``metric`` is False).
        source: ``sensor`` (the camera's registered depth) or ``da3`` (the model).
        metric: True when ``depth_m`` is in metres.
        confidence: (H, W) float32 (higher is surer) or None.
        frame_index: ``Frame.index`` of the frame.
    """

    depth_m: np.ndarray
    source: str
    metric: bool
    confidence: np.ndarray | None
    frame_index: int

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """The depth map itself."""
        return self.depth_m if dtype is None else self.depth_m.astype(dtype)

    def __repr__(self) -> str:
        """Short summary for the model's observations."""
        finite = self.depth_m[np.isfinite(self.depth_m)]
        span = f"{finite.min():.2f}..{finite.max():.2f}" if finite.size else "no valid pixel"
        unit = "m" if self.metric else "(relative)"
        return f"Depth(frame {self.frame_index}, {self.source}, {tuple(self.depth_m.shape)}, {span} {unit})"


@dataclass(frozen=True, eq=False)
class Reconstruction:
    """Multi-view reconstruction of some frames, each on its own pixel grid.

    Attributes:
        frame_indices: (F,) ``Frame.index`` of each frame, in the order given.
        depth_m: F arrays (H_f, W_f) float32 metres (relative units when ``metric`` is False).
        confidence: F arrays (H_f, W_f) float32, higher is surer.
        K: (F, 3, 3) intrinsics in pixels of each frame's own grid.
        T_world_camera: (F, 4, 4) camera optical frame → world. The world is the snapshot's world
            frame when the frames carry poses, else the first frame's camera.
        metric: True when depths and translations are in metres (scale from the frames' poses or
            from sensor depth).
        scale_source: ``poses``, ``sensor_depth``, ``model`` (a metric model) or ``none``.
    """

    frame_indices: np.ndarray
    depth_m: tuple[np.ndarray, ...]
    confidence: tuple[np.ndarray, ...]
    K: np.ndarray
    T_world_camera: np.ndarray
    metric: bool
    scale_source: str

    def __len__(self) -> int:
        """Number of frames."""
        return int(self.frame_indices.shape[0])

    def __repr__(self) -> str:
        """Short summary for the model's observations."""
        return (
            f"Reconstruction({len(self)} frames {self.frame_indices.tolist()}, metric={self.metric} "
            f"(scale from {self.scale_source}))"
        )

    def points(self, i: int, mask: np.ndarray | None = None, min_confidence: float = 0.0) -> np.ndarray:
        """(N, 3) world points of frame ``i`` (position in this reconstruction), optionally masked."""
        keep = self.confidence[i] >= min_confidence
        if mask is not None:
            keep &= _mask("mask", mask, self.depth_m[i].shape)
        return transform_points(self.T_world_camera[i], backproject(self.depth_m[i], self.K[i], keep))


_client: PerceptionClient | None = None


def configure(
    socket_path: str | None = None,
    url: str | None = None,
    token: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> PerceptionClient:
    """Point ``tools.*`` at a perception service; without arguments, read the environment."""
    global _client
    if socket_path is None and url is None:
        url = os.environ.get(URL_ENV) or None
        socket_path = None if url else os.environ.get(SOCKET_ENV) or _relay_socket()
        token = token or os.environ.get(TOKEN_ENV) or None
    _client = PerceptionClient(socket_path=socket_path, url=url, token=token, timeout_s=timeout_s)
    return _client


def _relay_socket() -> str:
    """The node's relay in this kernel's services directory, else the service's default socket."""
    services = os.environ.get(SERVICES_ENV)
    return str(Path(services) / RELAY_SOCKET_NAME) if services else DEFAULT_SOCKET


def _service() -> PerceptionClient:
    return _client if _client is not None else configure()


def _image(frame: Any) -> np.ndarray:
    image = np.asarray(getattr(frame, "image", frame))
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise PerceptionError(
            "INVALID_QUERY", f"expected a Frame or an (H, W, 3) uint8 image, got {image.dtype} {image.shape}"
        )
    return image


def _mask(name: str, mask: Any, shape: tuple[int, ...]) -> np.ndarray:
    array = np.asarray(mask)
    if array.shape != shape:
        raise PerceptionError("INVALID_QUERY", f"{name} must have shape {shape}, got {array.shape}")
    return array.astype(bool)


def _prompt(prompt: Any) -> str:
    if not isinstance(prompt, str) or not prompt.strip():
        raise PerceptionError("INVALID_QUERY", "the prompt must be a non-empty string, e.g. 'red chair'")
    return prompt.strip()


def _frame_arrays(frame: Any, suffix: str = "") -> dict[str, np.ndarray]:
    """The image, and the label image when the frame carries one (simulators' instance ids)."""
    arrays = {f"image{suffix}": _image(frame)}
    labels = getattr(frame, "labels", None)
    if labels is not None:
        arrays[f"labels{suffix}"] = np.asarray(labels)
    return arrays


def _label_map(frame: Any) -> dict[str, str] | None:
    """The frame's label map as JSON ``{"id": "name"}`` when it has labels and a map, else None.

    It travels in the request's parameters, so it is part of the cache key.
    """
    label_map = getattr(frame, "label_map", None)
    if getattr(frame, "labels", None) is None or not label_map:
        return None
    try:
        return {str(int(key)): str(name) for key, name in dict(label_map).items()}
    except (TypeError, ValueError) as error:
        raise PerceptionError(
            "INVALID_QUERY", f"label_map must map integer instance ids to names: {error}"
        ) from error


def segment(frame: Any, prompt: str, min_score: float | None = None) -> Segmentation:
    """Instance masks of ``prompt`` (e.g. ``"chair"``, ``"red mug"``) in one frame, best score first.

    ``min_score`` overrides the service's score threshold (0..1). With the ``labels`` backend the
    frame's ``labels`` and ``label_map`` answer (no model).
    """
    meta: dict[str, Any] = {"prompt": _prompt(prompt)}
    if min_score is not None:
        meta["min_score"] = float(min_score)
    label_map = _label_map(frame)
    if label_map is not None:
        meta["label_map"] = label_map
    reply, arrays = _service().call("segment", meta, _frame_arrays(frame))
    return Segmentation(
        prompt=meta["prompt"],
        frame_index=int(getattr(frame, "index", -1)),
        masks=arrays["masks"],
        scores=arrays["scores"],
        boxes=arrays["boxes"],
        labels=tuple(reply["labels"]),
        backend=str(reply["backend"]),
    )


def track(frames: Sequence[Any], prompt: str, min_score: float | None = None) -> Tracks:
    """Follow every instance of ``prompt`` over ``frames`` (time order); ids are stable across frames.

    With the ``labels`` backend objects are linked by their instance id in the frames' ``labels``.
    """
    items = list(frames)
    if not items:
        raise PerceptionError("INVALID_QUERY", "track needs at least one frame")
    meta: dict[str, Any] = {"prompt": _prompt(prompt), "frames": len(items)}
    if min_score is not None:
        meta["min_score"] = float(min_score)
    arrays: dict[str, np.ndarray] = {}
    for i, frame in enumerate(items):
        arrays.update(_frame_arrays(frame, f"_{i}"))
    label_maps = [_label_map(frame) for frame in items]
    if any(label_map is not None for label_map in label_maps):
        meta["label_maps"] = label_maps
    reply, out = _service().call("track", meta, arrays)
    return Tracks(
        prompt=meta["prompt"],
        frame_indices=np.array([int(getattr(frame, "index", i)) for i, frame in enumerate(items)]),
        object_ids=out["object_ids"],
        masks=out["masks"],
        present=out["present"],
        scores=out["scores"],
        boxes=out["boxes"],
        backend=str(reply["backend"]),
    )


def depth(frame: Any) -> Depth:
    """Depth of one frame: the camera's registered depth when it has one (free, metric), else the model's."""
    index = int(getattr(frame, "index", -1))
    sensor = getattr(frame, "depth", None)
    if sensor is not None:
        return Depth(np.asarray(sensor, dtype=np.float32), "sensor", True, None, index)
    arrays = {"image": _image(frame)}
    K = getattr(frame, "K", None)
    if K is not None:
        arrays["K"] = np.asarray(K, dtype=np.float64)
    reply, out = _service().call("depth", {}, arrays)
    return Depth(out["depth_m"], str(reply["source"]), bool(reply["metric"]), out.get("confidence"), index)


def reconstruct(frames: Sequence[Any]) -> Reconstruction:
    """Per-frame depth, intrinsics, camera poses and confidence of ``frames`` from one multi-view pass.

    The frames' own poses (``T_world_camera``) and sensor depth, when present, fix the metric scale
    and put the result in the snapshot's world frame.
    """
    items = list(frames)
    if not items:
        raise PerceptionError("INVALID_QUERY", "reconstruct needs at least one frame")
    arrays: dict[str, np.ndarray] = {}
    for i, frame in enumerate(items):
        arrays[f"image_{i}"] = _image(frame)
        for name, attribute in (("K", "K"), ("T_world_camera", "T_world_camera"), ("sensor_depth", "depth")):
            value = getattr(frame, attribute, None)
            if value is not None:
                arrays[f"{name}_{i}"] = np.asarray(
                    value, dtype=np.float32 if name == "sensor_depth" else float
                )
    reply, out = _service().call("reconstruct", {"frames": len(items)}, arrays)
    return Reconstruction(
        frame_indices=np.array([int(getattr(frame, "index", i)) for i, frame in enumerate(items)]),
        depth_m=tuple(out[f"depth_m_{i}"] for i in range(len(items))),
        confidence=tuple(out[f"confidence_{i}"] for i in range(len(items))),
        K=out["K"],
        T_world_camera=out["T_world_camera"],
        metric=bool(reply["metric"]),
        scale_source=str(reply["scale_source"]),
    )


def masked_points(frame: Any, mask: Any, depth_m: Any = None, stride: int = 1) -> np.ndarray:
    """(N, 3) world-frame points (metres) of the pixels of ``mask`` in ``frame``.

    Depth comes from ``depth_m`` ((H, W) or a :class:`Depth`) or else :func:`depth`. The frame's
    ``T_world_camera`` maps them into the world; without a pose they stay in the camera's optical
    frame (the snapshot's world when no camera pose is known). ``stride`` subsamples pixels.
    """
    depth_map = np.asarray(depth_m if depth_m is not None else depth(frame), dtype=np.float64)
    K = getattr(frame, "K", None)
    if K is None:
        raise PerceptionError("INVALID_QUERY", "the frame has no intrinsics K")
    points = backproject(depth_map, K, _mask("mask", mask, depth_map.shape), stride=stride)
    T = getattr(frame, "T_world_camera", None)
    return points if T is None else transform_points(T, points)
