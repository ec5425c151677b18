"""The perception engine: loads each configured backend once and serves encoded requests with a cache.

It knows bytes in and bytes out (the ``.npz`` messages of :mod:`spatialclaw_ros.protocol.perception`), so
the FastAPI app and the Ray Serve deployment share it unchanged. Each request names its identity (the
query it belongs to): the cache is shared, but a query finds in it only what it could not tell apart
from its own computation (see :mod:`._cache`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spatialclaw_ros.perception._backends import BACKENDS
from spatialclaw_ros.perception._cache import ReplyCache, SentKeys
from spatialclaw_ros.perception._labels import label_map_from_request
from spatialclaw_ros.perception._scheduler import HOST_IDENTITY, Job
from spatialclaw_ros.perception._settings import PerceptionSettings
from spatialclaw_ros.perception._tracking import link_instances
from spatialclaw_ros.perception._types import InvalidRequestError, PerceptionUnavailableError, View
from spatialclaw_ros.protocol.perception import (
    MessageError,
    PerceptionError,
    content_key,
    decode_message,
    encode_message,
)

LOG = logging.getLogger("spatialclaw_ros.perception")
OPERATIONS = ("segment", "track", "depth", "reconstruct")
MAX_FRAMES = 256


@dataclass(frozen=True)
class Reply:
    """An encoded reply, and the ``time.monotonic()`` second before which it must not be sent.

    ``not_before`` is later than now only for a reply found in the cache that its caller never sent
    before: it then arrives no sooner than its computation would have.
    """

    body: bytes
    not_before: float = 0.0


@dataclass
class BackendSlot:
    """One capability's backend and its state: ``loading``, ``ready``, ``unavailable`` or ``disabled``."""

    capability: str
    backend: str
    state: str = "loading"
    detail: str = ""
    instance: Any = None
    settled: threading.Event = field(default_factory=threading.Event)

    def report(self) -> dict[str, str]:
        """What health shows for this capability."""
        return {"backend": self.backend, "state": self.state, "detail": self.detail}


class PerceptionEngine:
    """Backends, cache and request handling of one service process (or one Ray Serve replica)."""

    def __init__(self, settings: PerceptionSettings) -> None:
        """Create the slots; nothing loads until :meth:`load`."""
        self.settings = settings
        self.cache = ReplyCache(settings.cache_entries, settings.cache_mb * 1024 * 1024)
        self.sent = SentKeys(settings.cache_entries)
        chosen = {
            "segmenter": settings.segmenter,
            "depth": settings.depth,
            "reconstructor": settings.reconstructor,
        }
        self.slots = {capability: BackendSlot(capability, backend) for capability, backend in chosen.items()}
        self._handlers: dict[str, Callable[[dict[str, Any], dict[str, np.ndarray]], tuple[dict, dict]]] = {
            "segment": self._segment,
            "track": self._track,
            "depth": self._depth,
            "reconstruct": self._reconstruct,
        }
        self._compute_lock = threading.Lock()

    def load(self) -> None:
        """Load every configured backend once; a failure marks that backend unavailable, never raises."""
        if self.settings.torch_threads:
            import torch

            torch.set_num_threads(self.settings.torch_threads)
        for capability, slot in self.slots.items():
            started = time.monotonic()
            if slot.backend == "none":
                slot.state, slot.detail = "disabled", f"perception.{capability} is 'none'"
            else:
                try:
                    slot.instance = BACKENDS[capability][slot.backend](self.settings)
                    slot.state = "ready"
                    slot.detail = (
                        "sensor depth only (no model fallback)"
                        if slot.instance is None
                        else f"loaded in {time.monotonic() - started:.1f} s"
                    )
                except PerceptionUnavailableError as error:
                    slot.state, slot.detail = "unavailable", str(error)
                except Exception as error:
                    LOG.exception("loading the %s backend failed", capability)
                    slot.state, slot.detail = "unavailable", f"{slot.backend} failed to load: {error}"
            slot.settled.set()
            LOG.info("perception %s: %s (%s)", capability, slot.state, slot.detail)

    def health(self) -> dict[str, Any]:
        """``{"status": "ok", "backends": {capability: {backend, state, detail}}}``; no cache figures."""
        return {
            "status": "ok",
            "backends": {capability: slot.report() for capability, slot in self.slots.items()},
        }

    def probe(self, identity: str, key: str) -> bytes | None:
        """The cached reply under a content key if ``identity`` itself sent that content before, else None."""
        if not self.sent.sent(identity, key):
            return None
        hit = self.cache.get(key)
        return None if hit is None else hit.body

    def forget(self, identity: str) -> None:
        """Forget which content ``identity`` sent (its query ended): its probes miss from now on."""
        self.sent.forget(identity)

    def run(
        self, operation: str, body: bytes | bytearray, identity: str = HOST_IDENTITY, job: Job | None = None
    ) -> Reply:
        """Serve one encoded request of ``identity``; PerceptionError with the code the caller should see.

        A computed reply is cached (through ``job.commit``: not once the job is discarded). A cached one
        that ``identity`` never sent itself is held back until as long as its computation took.
        """
        started = time.monotonic()
        if operation not in self._handlers:
            raise PerceptionError(
                "INVALID_QUERY", f"unknown operation {operation!r}; known: {', '.join(OPERATIONS)}"
            )
        try:
            meta, arrays = decode_message(body, self.settings.max_request_mb * 1024 * 1024)
        except MessageError as error:
            raise PerceptionError(error.code, str(error)) from error
        key = content_key(operation, meta, arrays)
        hit = self.cache.get(key)
        if hit is not None:
            not_before = started if self.sent.sent(identity, key) else started + hit.compute_s
            self._keep(job, lambda: self.sent.add(identity, key))
            return Reply(hit.body, not_before)
        try:
            with self._compute_lock:
                reply_meta, reply_arrays = self._handlers[operation](meta, arrays)
        except PerceptionUnavailableError as error:
            raise PerceptionError("PERCEPTION_UNAVAILABLE", str(error)) from error
        except (InvalidRequestError, KeyError, TypeError, ValueError) as error:
            raise PerceptionError("INVALID_QUERY", f"{operation}: {error}") from error
        except PerceptionError:
            raise
        except Exception as error:
            LOG.exception("%s failed", operation)
            raise PerceptionError(
                "PERCEPTION_FAILED", f"{operation} failed: {type(error).__name__}: {error}"
            ) from error
        reply = encode_message(reply_meta, reply_arrays)
        compute_s = time.monotonic() - started

        def keep() -> None:
            self.cache.put(key, reply, compute_s)
            self.sent.add(identity, key)

        self._keep(job, keep)
        return Reply(reply)

    @staticmethod
    def _keep(job: Job | None, action: Callable[[], None]) -> None:
        """Run ``action`` (remember a result) unless ``job`` was discarded: its query ended."""
        if job is None:
            action()
        else:
            job.commit(action)

    def _backend(self, capability: str) -> Any:
        slot = self.slots[capability]
        if not slot.settled.wait(self.settings.call_timeout_s):
            raise PerceptionError("TIMEOUT", f"the {slot.backend} {capability} is still loading")
        if slot.state != "ready":
            raise PerceptionUnavailableError(
                f"{capability} backend {slot.backend!r} is {slot.state}: {slot.detail}"
            )
        return slot.instance

    def _segment(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> tuple[dict, dict]:
        prompt, min_score = _prompt(meta), self._min_score(meta)
        label_map = _label_map(meta.get("label_map"))
        segmenter = self._backend("segmenter")
        instances = segmenter.segment(arrays["image"], prompt, min_score, arrays.get("labels"), label_map)
        return (
            {"labels": list(instances.labels), "backend": segmenter.name},
            {"masks": instances.masks, "scores": instances.scores, "boxes": instances.boxes},
        )

    def _track(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> tuple[dict, dict]:
        count = _frame_count(meta)
        prompt, min_score = _prompt(meta), self._min_score(meta)
        segmenter = self._backend("segmenter")
        images = [arrays[f"image_{i}"] for i in range(count)]
        if len({image.shape for image in images}) != 1:
            raise InvalidRequestError("track needs frames of one image size (one camera)")
        label_maps = meta.get("label_maps", [None] * count)
        if not isinstance(label_maps, list) or len(label_maps) != count:
            raise InvalidRequestError(f"label_maps must be a list of {count} label maps (or nulls)")
        per_frame = [
            segmenter.segment(
                images[i], prompt, min_score, arrays.get(f"labels_{i}"), _label_map(label_maps[i])
            )
            for i in range(count)
        ]
        tracked = link_instances(per_frame, self.settings.track_min_iou)
        return (
            {"backend": segmenter.name},
            {
                "object_ids": tracked.object_ids,
                "masks": tracked.masks,
                "present": tracked.present,
                "scores": tracked.scores,
                "boxes": tracked.boxes,
            },
        )

    def _depth(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> tuple[dict, dict]:
        # A frame with registered sensor depth never gets here: tools.depth returns that depth itself.
        image = arrays["image"]
        estimator = self._backend("depth")
        if estimator is None:
            raise PerceptionUnavailableError(
                "this camera has no registered depth and perception.depth is 'sensor' (no model fallback); "
                "set it to 'da3' for model depth"
            )
        prediction = estimator.estimate(image, arrays.get("K"))
        out = {"depth_m": prediction.depth_m.astype(np.float32)}
        if prediction.confidence is not None:
            out["confidence"] = prediction.confidence.astype(np.float32)
        return {"source": estimator.name, "metric": prediction.metric}, out

    def _reconstruct(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> tuple[dict, dict]:
        count = _frame_count(meta)
        reconstructor = self._backend("reconstructor")
        views = [
            View(
                image=arrays[f"image_{i}"],
                K=arrays.get(f"K_{i}"),
                T_world_camera=arrays.get(f"T_world_camera_{i}"),
                sensor_depth_m=arrays.get(f"sensor_depth_{i}"),
            )
            for i in range(count)
        ]
        result = reconstructor.reconstruct(views)
        out: dict[str, np.ndarray] = {"K": result.K, "T_world_camera": result.T_world_camera}
        for i in range(count):
            out[f"depth_m_{i}"] = result.depth_m[i]
            out[f"confidence_{i}"] = result.confidence[i]
        return {"metric": result.metric, "scale_source": result.scale_source}, out

    def _min_score(self, meta: dict[str, Any]) -> float:
        value = float(meta.get("min_score", self.settings.min_score))
        if not 0.0 <= value <= 1.0:
            raise InvalidRequestError(f"min_score must be in [0, 1], got {value}")
        return value


def _prompt(meta: dict[str, Any]) -> str:
    prompt = meta.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequestError("prompt must be a non-empty string")
    return prompt.strip()


def _label_map(value: Any) -> dict[int, str] | None:
    """A frame's label map from the request (``{"id": "name"}``), or None when it sent none."""
    return None if value is None else label_map_from_request(value)


def _frame_count(meta: dict[str, Any]) -> int:
    count = meta.get("frames")
    if not isinstance(count, int) or not 1 <= count <= MAX_FRAMES:
        raise InvalidRequestError(f"frames must be an integer in [1, {MAX_FRAMES}], got {count!r}")
    return count
