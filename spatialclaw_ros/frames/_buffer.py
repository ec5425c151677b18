"""FrameBuffer: the node's thread-safe memory of recent camera messages, kept raw until a query.

Per camera it keeps key frames (at most ``keyframe_hz`` per second of image stamps) plus always
the latest frame, each with the depth message and the instance-label image whose stamps are
nearest (within ``depth_tolerance_s``), and the camera's latest label map (instance id → name,
from a simulator's JSON ``{"id": "name"}``). Frames older than ``history_s`` (by the camera's
newest stamp) are evicted, and the total payload held never exceeds ``max_memory_mb`` (oldest
received evicted first). Adding a frame parses only the message header: the pixels stay in the
received buffer and are decoded by :func:`~spatialclaw_ros.frames.write_snapshot` when a query
needs them. A key frame (and the depth and labels paired with it) of at least 1 MiB is copied once
out of the received buffer into pages of its own (:func:`~spatialclaw_ros.frames.detach`), so that
frames kept for minutes never fragment the heap that recycles the stream of dropped ones: the
process's memory then follows the payload held.

Complete frames only: a camera configured with paired streams (depth, labels) holds a new colour
frame back until each of those streams has delivered its image for it, or until its pairing
deadline (``pairing_wait_s`` after the colour frame arrived) has passed; only then does the frame
become a key frame or the latest one, the only frames a snapshot ever sees. A frame completed
by its deadline says so (``depth_expected`` without depth). A stream that has never delivered, or
whose last message came more than ``max(1 s, 3 × pairing_wait_s)`` ago, is silent: frames stop
waiting for it until its next message (a stream that is only late keeps its frames waiting, each
at most its deadline). A newer frame that completes first supersedes the older ones still waiting.

Convention: stamps are integer nanoseconds of the clock that stamps the images (ROS time, or
simulation time); ``received_ns`` is this process's monotonic clock.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ._cdr import CompressedImageView, ImageView, detach, parse_compressed_image, parse_image, stamp_ns
from ._codecs import Stream, check_compressed, check_image
from ._errors import FrameDecodeError, NoFramesError
from ._poses import PoseSource

_NS = 1_000_000_000
_MB = 1024 * 1024
_PENDING_DEPTH = 8
#: Most colour frames of one camera waiting for their paired images (the oldest is completed first).
_WAITING_FRAMES = 16
#: A paired stream with no message for this long (s), or for three pairing deadlines, is silent.
_SILENT_AFTER_S = 1.0
_RATE_SAMPLES = 64
_INSTANCE_ID = re.compile(r"-?[0-9]+")
_MAX_LABEL_NAME = 256
#: Kept payloads at least this large move into pages of their own (bytes).
_DETACH_MIN_BYTES = 1 << 20

#: Serial numbers of buffered messages: unique for the life of the process.
_SERIALS = itertools.count(1)

#: Streams paired with the colour frames by stamp; each names the ``_Entry`` slot that holds it.
Paired = Literal["depth", "labels"]


@dataclass(frozen=True)
class CameraStats:
    """Diagnostics of one camera's colour, depth and label streams since the buffer was created.

    Every colour message received ends up counted once as ``rejected`` (bad message), ``dropped``
    (superseded non-key frame), ``evicted`` (aged out or pushed out by the memory cap), ``kept``
    (held now, complete) or ``waiting`` (held now, waiting for its paired images):
    ``received == rejected + dropped + evicted + kept + waiting``. ``depth_kept`` and
    ``labels_kept`` count the kept frames that have a paired depth or label image;
    ``depth_missed`` and ``labels_missed`` count the frames completed by their pairing deadline
    without it; ``depth_last_received_s`` is the monotonic time (s) of the last depth message
    (None: never); ``label_map_size`` is the number of names in the current label map (0: none
    received), and ``label_maps_rejected`` counts malformed label maps (the previous map stays
    in use).
    """

    received: int
    kept: int
    dropped: int
    evicted: int
    rejected: int
    bytes: int
    rate_hz: float
    last_stamp_s: float | None
    last_error: str | None
    depth_received: int
    depth_kept: int
    depth_rejected: int
    camera_info: bool
    labels_received: int = 0
    labels_kept: int = 0
    labels_rejected: int = 0
    label_map_size: int = 0
    label_maps_rejected: int = 0
    waiting: int = 0
    depth_missed: int = 0
    labels_missed: int = 0
    depth_last_received_s: float | None = None


class _Entry:
    """One buffered message: the raw payload (or message object) and its bookkeeping."""

    __slots__ = ("compressed", "depth", "labels", "message", "nbytes", "received_ns", "serial", "stamp_ns")

    def __init__(self, message: Any, stamp_ns: int, received_ns: int, nbytes: int, compressed: bool) -> None:
        self.serial = next(_SERIALS)
        self.message = message
        self.stamp_ns = stamp_ns
        self.received_ns = received_ns
        self.nbytes = nbytes
        self.compressed = compressed
        self.depth: _Entry | None = None
        self.labels: _Entry | None = None

    def paired(self, stream: Paired) -> _Entry | None:
        return self.depth if stream == "depth" else self.labels

    def pair(self, stream: Paired, entry: _Entry | None) -> None:
        if stream == "depth":
            self.depth = entry
        else:
            self.labels = entry

    def total_bytes(self) -> int:
        return (
            self.nbytes
            + (self.depth.nbytes if self.depth is not None else 0)
            + (self.labels.nbytes if self.labels is not None else 0)
        )

    def with_paired(self) -> list[_Entry]:
        """The entry itself, then its depth and label entries when it has them."""
        return [entry for entry in (self, self.depth, self.labels) if entry is not None]

    def detach(self) -> None:
        """Move a large serialized payload into pages of its own (see the module docstring)."""
        if isinstance(self.message, (ImageView, CompressedImageView)) and self.nbytes >= _DETACH_MIN_BYTES:
            self.message = detach(self.message)


class _PairedStream:
    """What the buffer knows of one paired stream of a camera (guarded by the buffer's lock)."""

    __slots__ = ("expected", "last_received_ns", "missed")

    def __init__(self) -> None:
        self.expected = False
        self.last_received_ns: int | None = None
        self.missed = 0

    @property
    def sending(self) -> bool:
        """Expected, and has delivered at least once."""
        return self.expected and self.last_received_ns is not None

    def live(self, now_ns: int, silent_after_ns: int) -> bool:
        """Sending, and its last message came at most ``silent_after_ns`` before ``now_ns``: frames wait."""
        return self.sending and now_ns - self.last_received_ns <= silent_after_ns


class _Camera:
    """Per-camera state, guarded by the buffer's lock."""

    def __init__(self) -> None:
        self.keyframes: deque[_Entry] = deque()
        self.latest: _Entry | None = None
        self.waiting: deque[_Entry] = deque()
        self.pending: dict[Paired, deque[_Entry]] = {"depth": deque(), "labels": deque()}
        self.streams: dict[Paired, _PairedStream] = {"depth": _PairedStream(), "labels": _PairedStream()}
        self.last_keyframe_ns: int | None = None
        self.newest_ns: int | None = None
        self.color_info: Any = None
        self.depth_info: Any = None
        self.T_color_depth: np.ndarray | None = None
        self.received_times: deque[int] = deque(maxlen=_RATE_SAMPLES)
        self.received = self.dropped = self.evicted = self.rejected = 0
        self.depth_received = self.depth_rejected = 0
        self.labels_received = self.labels_rejected = 0
        self.label_map: dict[int, str] = {}
        self.label_maps_rejected = 0
        self.bytes = 0
        self.last_error: str | None = None

    def frames(self) -> list[_Entry]:
        """Kept (complete) colour frames, oldest first."""
        return [*self.keyframes, self.latest] if self.latest is not None else list(self.keyframes)

    def held(self) -> list[_Entry]:
        """Every colour frame held, complete or waiting, oldest first."""
        return sorted([*self.frames(), *self.waiting], key=lambda entry: entry.stamp_ns)


@dataclass(frozen=True)
class SelectedFrame:
    """A buffered frame chosen for a snapshot, with what is needed to decode and place it.

    ``serials`` identifies the buffered messages behind it (colour, depth, labels; 0 for none):
    the same serials always mean the same pixels, so decoded arrays may be reused by them.
    ``depth_stamp_ns`` is the paired depth message's stamp (None without depth);
    ``depth_expected`` says that the camera sends depth, so a frame without it lost its depth
    message (the pairing deadline passed).
    """

    camera: str
    stamp_ns: int
    message: Any
    compressed: bool
    depth_message: Any
    depth_compressed: bool
    color_info: Any
    depth_info: Any
    T_color_depth: np.ndarray | None
    labels_message: Any = None
    label_map: Mapping[int, str] = field(default_factory=dict)
    serials: tuple[int, int, int] = (0, 0, 0)
    depth_stamp_ns: int | None = None
    depth_expected: bool = False


def parse_label_map(text: str | None, camera: str) -> dict[int, str]:
    """Instance id → name of a simulator's label map, JSON ``{"id": "name", ...}``.

    Ids are decimal integers written as strings (JSON object keys); names are non-empty strings
    of at most 256 characters.

    Raises:
        FrameDecodeError: not JSON, not an object, a key that is not an integer, or a name that
            is not a non-empty string (field ``labels.map``).
    """
    try:
        document = json.loads(text)
    except (TypeError, ValueError) as error:
        raise FrameDecodeError(camera, "labels.map", f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise FrameDecodeError(
            camera, "labels.map", f"expected a JSON object {{id: name}}, got {type(document).__name__}"
        )
    label_map: dict[int, str] = {}
    for key, name in document.items():
        if not _INSTANCE_ID.fullmatch(key):
            raise FrameDecodeError(camera, "labels.map", f"key {key!r} is not an integer instance id")
        if not isinstance(name, str) or not name.strip() or len(name) > _MAX_LABEL_NAME:
            raise FrameDecodeError(
                camera,
                "labels.map",
                f"name of id {key} must be a non-empty string of at most {_MAX_LABEL_NAME} characters, "
                f"got {name!r}",
            )
        label_map[int(key)] = name
    return label_map


def _detach(entries: Iterable[_Entry]) -> None:
    for entry in entries:
        entry.detach()


def _payload_size(message: Any) -> int:
    data = message.data
    return data.nbytes if isinstance(data, memoryview) else len(data)


class FrameBuffer:
    """Thread-safe per-camera buffer of raw colour/depth/label messages with a key-frame policy.

    Args:
        keyframe_hz: most key frames kept per camera per second of stamps (0: only the latest
            frame; ``inf``: every frame).
        history_s: key frames older than this (relative to the camera's newest stamp) are evicted.
        max_memory_mb: hard cap on the payload bytes held by all cameras together (MiB).
        depth_tolerance_s: largest stamp difference for pairing a depth or label image with a
            colour one.
        pairing_wait_s: longest a colour frame waits for the images of its camera's paired
            streams after it arrived (s, receive time); 0: never wait.
    """

    def __init__(
        self,
        keyframe_hz: float,
        history_s: float,
        max_memory_mb: float,
        depth_tolerance_s: float = 0.02,
        pairing_wait_s: float = 0.1,
    ) -> None:
        if not keyframe_hz >= 0:
            raise ValueError(f"keyframe_hz must be >= 0, got {keyframe_hz}")
        if not (history_s > 0 and math.isfinite(history_s)):
            raise ValueError(f"history_s must be a finite number > 0, got {history_s}")
        if not (max_memory_mb > 0 and math.isfinite(max_memory_mb)):
            raise ValueError(f"max_memory_mb must be a finite number > 0, got {max_memory_mb}")
        if not depth_tolerance_s >= 0:
            raise ValueError(f"depth_tolerance_s must be >= 0, got {depth_tolerance_s}")
        if not (pairing_wait_s >= 0 and math.isfinite(pairing_wait_s)):
            raise ValueError(f"pairing_wait_s must be a finite number >= 0, got {pairing_wait_s}")
        self.keyframe_hz = float(keyframe_hz)
        self.history_s = float(history_s)
        self.max_memory_mb = float(max_memory_mb)
        self._keyframe_period_ns = (
            0 if math.isinf(keyframe_hz) else (None if keyframe_hz == 0 else _NS / keyframe_hz)
        )
        self._history_ns = int(history_s * _NS)
        self._cap_bytes = int(max_memory_mb * _MB)
        self._depth_tolerance_ns = int(depth_tolerance_s * _NS)
        self.pairing_wait_s = float(pairing_wait_s)
        self._pairing_wait_ns = int(pairing_wait_s * _NS)
        self._silent_after_ns = int(max(_SILENT_AFTER_S, 3 * pairing_wait_s) * _NS)
        self._lock = threading.Lock()
        self._cameras: dict[str, _Camera] = {}
        self._total_bytes = 0
        self.pose_source: PoseSource | None = None

    # ----------------------------------------------------------------- configuration

    def configure_camera(
        self, camera: str, T_color_depth: np.ndarray | None = None, paired: Iterable[Paired] = ()
    ) -> None:
        """Declare a camera.

        Args:
            camera: camera name.
            T_color_depth: 4×4, depth optical → colour optical (m); enables depth reprojection.
            paired: the streams (``"depth"``, ``"labels"``) the camera's colour frames wait for,
                up to ``pairing_wait_s`` each, once the stream has delivered (see module docstring).
        """
        with self._lock:
            state = self._cameras.setdefault(camera, _Camera())
            state.T_color_depth = (
                None if T_color_depth is None else np.asarray(T_color_depth, dtype=np.float64)
            )
            for stream, status in state.streams.items():
                status.expected = stream in tuple(paired)

    def set_camera_info(self, camera: str, info: Any, stream: Literal["color", "depth"] = "color") -> None:
        """Record the latest ``sensor_msgs/CameraInfo`` (any object with ``k``, ``width``, ``height``)."""
        with self._lock:
            state = self._cameras.setdefault(camera, _Camera())
            if stream == "depth":
                state.depth_info = info
            else:
                state.color_info = info

    # ----------------------------------------------------------------- ingest

    def add_image(
        self, camera: str, message: Any, *, compressed: bool = False, received_ns: int | None = None
    ) -> bool:
        """Buffer a colour image; returns whether it was accepted.

        Args:
            camera: camera name.
            message: serialized CDR ``bytes`` of a sensor_msgs/Image (CompressedImage when
                ``compressed``), or a message object with the same attributes.
            compressed: the message is a CompressedImage.
            received_ns: arrival time on the monotonic clock (now when omitted).
        """
        return self._add(camera, message, "color", compressed, received_ns)

    def add_depth(
        self, camera: str, message: Any, *, compressed: bool = False, received_ns: int | None = None
    ) -> bool:
        """Buffer a depth image (``16UC1``/``32FC1`` Image, or compressedDepth); see :meth:`add_image`."""
        return self._add(camera, message, "depth", compressed, received_ns)

    def add_labels(self, camera: str, message: Any, *, received_ns: int | None = None) -> bool:
        """Buffer an instance-label Image (``mono8``/``mono16``/``16UC1``/``32SC1``); see :meth:`add_image`.

        It is paired with the colour frame of nearest stamp like depth; its size is checked
        against the colour image when a snapshot decodes it.
        """
        return self._add(camera, message, "labels", False, received_ns)

    def set_label_map(self, camera: str, message: Any) -> bool:
        """Replace the camera's label map from a ``std_msgs/String`` (or ``str``) holding ``{"id": "name"}``.

        Returns whether it was accepted; a malformed map is counted in ``label_maps_rejected``,
        its reason becomes ``last_error``, and the previous map stays in use.
        """
        text = message if isinstance(message, str) else getattr(message, "data", None)
        try:
            label_map = parse_label_map(text, camera)
        except FrameDecodeError as error:
            with self._lock:
                state = self._cameras.setdefault(camera, _Camera())
                state.label_maps_rejected += 1
                state.last_error = str(error)
            return False
        with self._lock:
            self._cameras.setdefault(camera, _Camera()).label_map = label_map
        return True

    def _add(
        self, camera: str, message: Any, stream: Stream, compressed: bool, received_ns: int | None
    ) -> bool:
        received_ns = time.monotonic_ns() if received_ns is None else received_ns
        try:
            if isinstance(message, (bytes, bytearray)):
                nbytes = len(message)
                view = parse_compressed_image(message, camera) if compressed else parse_image(message, camera)
            else:
                nbytes = _payload_size(message)
                view = message
            if compressed:
                check_compressed(view, camera, stream)
            else:
                check_image(view, camera, stream)
            stamp = stamp_ns(view.header)
        except FrameDecodeError as error:
            self._reject(camera, stream, str(error))
            return False
        entry = _Entry(view, stamp, received_ns, nbytes, compressed)
        kept: list[_Entry] = []
        with self._lock:
            state = self._cameras.setdefault(camera, _Camera())
            if nbytes > self._cap_bytes:
                self._count_rejection(
                    state, stream, f"message of {nbytes / _MB:.1f} MiB exceeds max_memory_mb"
                )
                return False
            accepted = (
                self._insert_color(state, entry)
                if stream == "color"
                else self._insert_paired(state, entry, stream, kept)
            )
            if accepted:
                self._settle(state, received_ns, kept)
                self._enforce_cap()
        # Outside the lock: a snapshot taken meanwhile holds the received buffer, which stays valid.
        _detach(kept)
        return accepted

    def _reject(self, camera: str, stream: Stream, reason: str) -> None:
        with self._lock:
            self._count_rejection(self._cameras.setdefault(camera, _Camera()), stream, reason)

    @staticmethod
    def _count_rejection(state: _Camera, stream: Stream, reason: str) -> None:
        if stream == "color":
            state.received += 1
            state.rejected += 1
        elif stream == "depth":
            state.depth_received += 1
            state.depth_rejected += 1
        else:
            state.labels_received += 1
            state.labels_rejected += 1
        state.last_error = reason

    def _insert_color(self, state: _Camera, entry: _Entry) -> bool:
        """Take a colour frame in: it waits for its paired images until :meth:`_settle` completes it."""
        if state.newest_ns is not None and entry.stamp_ns <= state.newest_ns:
            if state.newest_ns - entry.stamp_ns <= self._history_ns:
                self._count_rejection(
                    state, "color", f"stamp {entry.stamp_ns / _NS:.3f} s is not newer than the last"
                )
                return False
            # The clock went back by more than the history (simulation or bag restart): start afresh.
            for old in state.held():
                self._forget(state, old)
                state.evicted += 1
            state.keyframes.clear()
            state.waiting.clear()
            state.latest = None
            state.last_keyframe_ns = None
        state.received += 1
        state.received_times.append(entry.received_ns)
        state.newest_ns = entry.stamp_ns
        self._claim_pending(state, entry, "depth")
        self._claim_pending(state, entry, "labels")
        self._account(state, entry.total_bytes())
        state.waiting.append(entry)
        return True

    def _complete(self, state: _Camera, entry: _Entry, now_ns: int) -> bool:
        """Whether ``entry`` has every live paired stream's image, or its pairing deadline has passed."""
        waited = now_ns - entry.received_ns >= self._pairing_wait_ns
        return all(
            waited or not status.live(now_ns, self._silent_after_ns) or entry.paired(stream) is not None
            for stream, status in state.streams.items()
        )

    def _settle(self, state: _Camera, now_ns: int, kept: list[_Entry]) -> None:
        """Move the complete waiting frames into the kept ones (see the module docstring).

        The newest complete frame supersedes the frames still waiting before it; a new key frame
        and its paired images are appended to ``kept``.
        """
        waiting = state.waiting
        if len(waiting) > _WAITING_FRAMES:
            # Too many waiting: the oldest is completed now, as if its deadline had passed.
            now_ns = max(now_ns, waiting[-_WAITING_FRAMES - 1].received_ns + self._pairing_wait_ns)
        newest = next(
            (
                position
                for position in range(len(waiting) - 1, -1, -1)
                if self._complete(state, waiting[position], now_ns)
            ),
            None,
        )
        if newest is None:
            return
        for _ in range(newest + 1):
            entry = waiting.popleft()
            if self._complete(state, entry, now_ns):
                self._count_misses(state, entry, now_ns)
                self._place(state, entry, kept)
            else:
                self._forget(state, entry)
                state.dropped += 1

    def _count_misses(self, state: _Camera, entry: _Entry, now_ns: int) -> None:
        for stream, status in state.streams.items():
            if status.live(now_ns, self._silent_after_ns) and entry.paired(stream) is None:
                status.missed += 1

    def _place(self, state: _Camera, entry: _Entry, kept: list[_Entry]) -> None:
        """Make a complete frame a key frame or the latest one; evict what aged out behind it."""
        period = self._keyframe_period_ns
        is_keyframe = period is not None and (
            state.last_keyframe_ns is None or entry.stamp_ns - state.last_keyframe_ns >= period
        )
        if state.latest is not None:
            self._forget(state, state.latest)
            state.dropped += 1
            state.latest = None
        if is_keyframe:
            state.keyframes.append(entry)
            state.last_keyframe_ns = entry.stamp_ns
            kept.extend(entry.with_paired())
        else:
            state.latest = entry
        horizon = entry.stamp_ns - self._history_ns
        while state.keyframes and state.keyframes[0].stamp_ns < horizon and state.keyframes[0] is not entry:
            self._forget(state, state.keyframes.popleft())
            state.evicted += 1

    def _claim_pending(self, state: _Camera, entry: _Entry, stream: Paired) -> None:
        """Pair a new colour frame with the waiting depth or label image of nearest stamp."""
        pending = state.pending[stream]
        best: _Entry | None = None
        for candidate in pending:
            gap = abs(candidate.stamp_ns - entry.stamp_ns)
            if gap <= self._depth_tolerance_ns and (
                best is None or gap < abs(best.stamp_ns - entry.stamp_ns)
            ):
                best = candidate
        if best is not None:
            pending.remove(best)
            self._account(state, -best.nbytes)
            entry.pair(stream, best)

    def _insert_paired(self, state: _Camera, entry: _Entry, stream: Paired, kept: list[_Entry]) -> bool:
        """Attach a depth or label image to the held colour frame of nearest stamp, else let it wait.

        One attached to a key frame is appended to ``kept``.
        """
        if stream == "depth":
            state.depth_received += 1
        else:
            state.labels_received += 1
        status = state.streams[stream]
        status.last_received_ns = entry.received_ns
        target: _Entry | None = None
        for color in reversed(state.held()):
            gap = abs(color.stamp_ns - entry.stamp_ns)
            current = color.paired(stream)
            if gap <= self._depth_tolerance_ns and (
                current is None or gap < abs(current.stamp_ns - color.stamp_ns)
            ):
                target = color
                break
            if color.stamp_ns < entry.stamp_ns - self._depth_tolerance_ns:
                break
        if target is not None:
            replaced = target.paired(stream)
            if replaced is not None:
                self._account(state, -replaced.nbytes)
            target.pair(stream, entry)
            if target in state.keyframes:
                kept.append(entry)
        else:
            pending = state.pending[stream]
            if len(pending) == _PENDING_DEPTH:
                self._account(state, -pending.popleft().nbytes)
            pending.append(entry)
        self._account(state, entry.nbytes)
        return True

    def _account(self, state: _Camera, delta: int) -> None:
        state.bytes += delta
        self._total_bytes += delta

    def _forget(self, state: _Camera, entry: _Entry) -> None:
        self._account(state, -entry.total_bytes())

    def _enforce_cap(self) -> None:
        while self._total_bytes > self._cap_bytes:
            oldest_state: _Camera | None = None
            oldest: _Entry | None = None
            for state in self._cameras.values():
                for candidate in (
                    state.pending["depth"][0] if state.pending["depth"] else None,
                    state.pending["labels"][0] if state.pending["labels"] else None,
                    state.keyframes[0] if state.keyframes else None,
                    state.latest,
                    state.waiting[0] if state.waiting else None,
                ):
                    if candidate is not None and (
                        oldest is None or candidate.received_ns < oldest.received_ns
                    ):
                        oldest_state, oldest = state, candidate
            if oldest is None or oldest_state is None:
                return
            self._evict(oldest_state, oldest)

    def _evict(self, state: _Camera, entry: _Entry) -> None:
        for pending in state.pending.values():
            if pending and pending[0] is entry:
                pending.popleft()
                self._account(state, -entry.nbytes)
                return
        if state.keyframes and state.keyframes[0] is entry:
            state.keyframes.popleft()
        elif state.waiting and state.waiting[0] is entry:
            state.waiting.popleft()
        else:
            state.latest = None
        self._forget(state, entry)
        state.evicted += 1

    # ----------------------------------------------------------------- queries

    @property
    def total_bytes(self) -> int:
        """Payload bytes held by all cameras."""
        return self._total_bytes

    def cameras_with_frames(self, now_ns: int | None = None) -> set[str]:
        """Names of the cameras that hold at least one complete colour frame (at monotonic ``now_ns``)."""
        kept: list[_Entry] = []
        with self._lock:
            self._settle_all(now_ns, kept)
            names = {
                name for name, state in self._cameras.items() if state.keyframes or state.latest is not None
            }
        _detach(kept)
        return names

    def stats(self) -> dict[str, CameraStats]:
        """Per-camera counters, bytes held and receive rate (see :class:`CameraStats`)."""
        kept: list[_Entry] = []
        with self._lock:
            self._settle_all(None, kept)
            stats = {name: self._stats(state) for name, state in self._cameras.items()}
        _detach(kept)
        return stats

    def _settle_all(self, now_ns: int | None, kept: list[_Entry]) -> None:
        now_ns = time.monotonic_ns() if now_ns is None else now_ns
        for state in self._cameras.values():
            if state.waiting:
                self._settle(state, now_ns, kept)

    @staticmethod
    def _stats(state: _Camera) -> CameraStats:
        times = state.received_times
        span_ns = times[-1] - times[0] if len(times) > 1 else 0
        frames = state.frames()
        return CameraStats(
            received=state.received,
            kept=len(frames),
            dropped=state.dropped,
            evicted=state.evicted,
            rejected=state.rejected,
            bytes=state.bytes,
            rate_hz=(len(times) - 1) * _NS / span_ns if span_ns > 0 else 0.0,
            last_stamp_s=None if state.newest_ns is None else state.newest_ns / _NS,
            last_error=state.last_error,
            depth_received=state.depth_received,
            depth_kept=sum(entry.depth is not None for entry in frames),
            depth_rejected=state.depth_rejected,
            camera_info=state.color_info is not None,
            labels_received=state.labels_received,
            labels_kept=sum(entry.labels is not None for entry in frames),
            labels_rejected=state.labels_rejected,
            label_map_size=len(state.label_map),
            label_maps_rejected=state.label_maps_rejected,
            waiting=len(state.waiting),
            depth_missed=state.streams["depth"].missed,
            labels_missed=state.streams["labels"].missed,
            depth_last_received_s=(
                None
                if state.streams["depth"].last_received_ns is None
                else state.streams["depth"].last_received_ns / _NS
            ),
        )

    def select(
        self, cameras: Sequence[str] | None, window_s: float, max_frames: int, now_ns: int | None = None
    ) -> list[SelectedFrame]:
        """Choose the frames of a snapshot, ordered by stamp (ties in camera order).

        Only complete frames are chosen (see the module docstring), as they stand at the monotonic
        time ``now_ns`` (now when omitted). ``window_s == 0`` takes the newest complete frame of
        each camera, never one whose paired images may still arrive: it is at most
        ``pairing_wait_s`` older than the newest received. Otherwise the frames whose stamp lies
        within ``window_s`` of the newest complete stamp among the chosen cameras. ``max_frames``
        is shared evenly between the cameras; each camera's share is spread uniformly in time and
        always includes its latest frame.

        Raises:
            ValueError: ``window_s < 0`` or ``max_frames < 1``.
            NoFramesError: no chosen camera holds a frame in the window.
        """
        if not window_s >= 0:
            raise ValueError(f"window_s must be >= 0, got {window_s}")
        if max_frames < 1:
            raise ValueError(f"max_frames must be >= 1, got {max_frames}")
        kept: list[_Entry] = []
        try:
            return self._select(cameras, window_s, max_frames, now_ns, kept)
        finally:
            _detach(kept)

    def _select(
        self,
        cameras: Sequence[str] | None,
        window_s: float,
        max_frames: int,
        now_ns: int | None,
        kept: list[_Entry],
    ) -> list[SelectedFrame]:
        with self._lock:
            self._settle_all(now_ns, kept)
            names = (
                list(self._cameras) if cameras is None or len(cameras) == 0 else list(dict.fromkeys(cameras))
            )
            held = {name: self._cameras[name].frames() for name in names if name in self._cameras}
            held = {name: frames for name, frames in held.items() if frames}
            if not held:
                known = sorted(n for n, s in self._cameras.items() if s.keyframes or s.latest is not None)
                raise NoFramesError(names, window_s, f"no frame received yet (cameras with frames: {known})")
            newest = max(frames[-1].stamp_ns for frames in held.values())
            if window_s == 0:
                candidates = {name: frames[-1:] for name, frames in held.items()}
            else:
                start = newest - int(window_s * _NS)
                candidates = {
                    name: [e for e in frames if e.stamp_ns >= start] for name, frames in held.items()
                }
                candidates = {name: frames for name, frames in candidates.items() if frames}
            if not candidates:
                raise NoFramesError(names, window_s, "every frame is older than the window")
            budgets = _share(candidates, max_frames)
            chosen = [
                self._selected(name, entry)
                for name, frames in candidates.items()
                for entry in _uniform_in_time(frames, budgets[name])
            ]
        order = {name: position for position, name in enumerate(names)}
        chosen.sort(key=lambda frame: (frame.stamp_ns, order[frame.camera]))
        return chosen

    def _selected(self, camera: str, entry: _Entry) -> SelectedFrame:
        state = self._cameras[camera]
        depth, labels = entry.depth, entry.labels
        return SelectedFrame(
            camera=camera,
            stamp_ns=entry.stamp_ns,
            message=entry.message,
            compressed=entry.compressed,
            depth_message=None if depth is None else depth.message,
            depth_compressed=depth is not None and depth.compressed,
            color_info=state.color_info,
            depth_info=state.depth_info,
            T_color_depth=state.T_color_depth,
            labels_message=None if labels is None else labels.message,
            label_map=state.label_map,
            serials=(
                entry.serial,
                0 if depth is None else depth.serial,
                0 if labels is None else labels.serial,
            ),
            depth_stamp_ns=None if depth is None else depth.stamp_ns,
            depth_expected=state.streams["depth"].sending,
        )


def _share(candidates: dict[str, list[_Entry]], max_frames: int) -> dict[str, int]:
    """Split ``max_frames`` between cameras as evenly as their frame counts allow.

    With fewer frames than cameras, the cameras with the newest frames get one each.
    """
    budgets = dict.fromkeys(candidates, 0)
    by_recency = sorted(candidates, key=lambda name: -candidates[name][-1].stamp_ns)
    remaining = max_frames
    while remaining > 0:
        open_cameras = [name for name in by_recency if budgets[name] < len(candidates[name])]
        if not open_cameras:
            break
        for name in open_cameras[:remaining]:
            budgets[name] += 1
            remaining -= 1
    return budgets


def _uniform_in_time(frames: list[_Entry], count: int) -> Iterable[_Entry]:
    """``count`` frames nearest to evenly spaced times from the first to the last stamp (last included)."""
    if count <= 0:
        return []
    if count >= len(frames):
        return frames
    stamps = np.array([entry.stamp_ns for entry in frames], dtype=np.float64)
    targets = np.linspace(stamps[0], stamps[-1], count) if count > 1 else stamps[-1:]
    taken: set[int] = set()
    for target in targets[::-1]:
        order = np.argsort(np.abs(stamps - target), kind="stable")
        taken.add(next(int(i) for i in order if int(i) not in taken))
    return [frames[i] for i in sorted(taken)]
