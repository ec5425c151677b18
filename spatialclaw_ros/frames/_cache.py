"""SnapshotCache: decoded frame arrays kept once as read-only .npy files and hard-linked into each snapshot.

A buffered frame is decoded the first time a snapshot needs it; its arrays (RGB, registered depth,
labels) are written once into the cache directory, mode 0444, and every snapshot that chooses the
frame again gets hard links to those files: no decode, no copy, and the kernel memory-maps the same
page-cache pages. An entry is keyed by the serials of the buffered messages behind it
(:attr:`~spatialclaw_ros.frames.SelectedFrame.serials`: the same serials always mean the same
pixels) plus, for depth, the calibration its registration used.

Warming: a query's window slides with time, and its frames are spread uniformly over it, so
consecutive queries mostly choose key frames that no query chose before. Decoding them only then
costs a full write per query; instead, once a snapshot used the cache, a background thread
decodes each new key frame of the buffer once, into free room (never pushing anything out), so
that snapshots find them ready (:func:`~spatialclaw_ros.frames.warm_snapshot_cache`). The cost is
a steady decode and write of every key frame (keyframe_hz per camera), whether queries come or not.

Bounds and lifetime:
    - The files of the cache never exceed ``max_mb`` MiB (least recently used entries go first;
      an array that does not fit is written into the snapshot alone). The cache lives in the
      system temporary directory by default: where that is a tmpfs, the cache is RAM, up to
      ``max_mb`` on top of the frame buffer's own ``max_memory_mb`` (the buffer's own cache:
      twice ``max_memory_mb``).
    - Entries whose messages left the buffer (aged out, pushed out by its memory cap, replaced)
      are removed at the next snapshot or warming round (:meth:`SnapshotCache.retain`); the
      directory is removed when the cache is garbage-collected or the process exits.
    - A snapshot holding links keeps those inodes alive after the cache dropped them, until the
      snapshot directory is removed: that memory belongs to the query, as a copy would.

Links need the snapshot directory on the cache's filesystem (the sandbox's default ``work_dir`` is
the same temporary directory); where linking fails (another filesystem, a link limit) the cached
file is copied instead, which still saves the decode. Linked files share their inode with the
cache, so they are immutable: written once, mode 0444, in a directory only this process may enter
(0700), and the kernel sees its snapshot through a read-only mount.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

_MB = 1024 * 1024
_TEMPORARY = itertools.count()
#: Room reserved for a .npy header before the file is written (its size is counted once written).
_NPY_HEADER_BYTES = 128

#: ``(kind, colour serial, depth or labels serial, variant)``: kind is ``image``, ``depth`` or
#: ``labels``; the variant names what else the array depends on (depth: its calibration).
CacheKey = tuple[str, int, int, str]
#: The first three parts of a :data:`CacheKey`: which array of which messages.
MessageKey = tuple[str, int, int]
#: How an array reached a snapshot: hard link or copy of a cache file, or written there alone
#: (``cached``: no snapshot asked, the array was only cached ahead).
Placement = Literal["linked", "copied", "written", "cached"]


@dataclass
class _Entry:
    path: Path
    nbytes: int
    meta: Any
    pins: int = 0


def _write_npy(path: Path, array: np.ndarray) -> None:
    """Write ``array`` as a read-only .npy file (created 0444; fails if ``path`` exists)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    with os.fdopen(descriptor, "wb") as file:
        np.lib.format.write_array(file, array, allow_pickle=False)


def _remove_directory(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


class SnapshotCache:
    """Decoded arrays of buffered frames as read-only .npy files, shared by snapshots (see module docstring).

    Thread-safe: snapshots written at the same time share the cache.

    Args:
        max_mb: most MiB of files held by the cache (0: cache nothing, every array is written
            into its snapshot).
        parent: directory to create the cache directory in (default: the system temporary
            directory); it should be on the filesystem of the snapshot directories.
        warm_period_s: once a snapshot used the cache, decode the buffer's new key frames into
            it in the background every this many seconds
            (:func:`~spatialclaw_ros.frames.warm_snapshot_cache`); None: only on demand.
    """

    def __init__(
        self, max_mb: float, parent: str | Path | None = None, warm_period_s: float | None = None
    ) -> None:
        if not max_mb >= 0:
            raise ValueError(f"max_mb must be >= 0, got {max_mb}")
        if warm_period_s is not None and not warm_period_s > 0:
            raise ValueError(f"warm_period_s must be > 0 or None, got {warm_period_s}")
        self.max_bytes = int(max_mb * _MB)
        self.warm_period_s = warm_period_s
        self._parent = None if parent is None else Path(parent)
        self._lock = threading.Lock()
        self._entries: OrderedDict[CacheKey, _Entry] = OrderedDict()
        self._bytes = 0
        self._root: Path | None = None
        self._unavailable = False

    @property
    def bytes(self) -> int:
        """Bytes of the files the cache holds (and of those being written)."""
        return self._bytes

    @property
    def entries(self) -> int:
        """Number of cached arrays."""
        return len(self._entries)

    @property
    def directory(self) -> Path | None:
        """The cache directory (None until the first array is cached)."""
        return self._root

    def provide(
        self, key: CacheKey | None, make: Callable[[], tuple[np.ndarray, Any]], destination: Path | None
    ) -> tuple[Any, Placement, bool]:
        """Put the array of ``key`` at ``destination`` (a new path), decoding it only on a miss.

        Args:
            key: the cache key (None: never cache, e.g. a frame without serials).
            make: decodes the array; returns it with metadata kept beside it (e.g. its size).
            destination: where the snapshot wants the file; None to only cache it ahead of a
                snapshot, in free room (nothing is pushed out for it).

        Returns:
            The metadata, how the file was placed (``"cached"`` without a destination, also when
            there was no room), and whether ``make`` ran.

        Raises:
            Whatever ``make`` raises (nothing is cached then); OSError when the file cannot be written.
        """
        entry = self._pin(key)
        decoded = False
        if entry is None:
            array, meta = make()
            decoded = True
            entry = self._store(key, array, meta, evict=destination is not None)
            if entry is None:
                if destination is None:
                    return meta, "cached", decoded
                _write_npy(destination, array)
                return meta, "written", decoded
        try:
            if destination is None:
                return entry.meta, "cached", decoded
            return entry.meta, self._place(entry.path, destination), decoded
        finally:
            with self._lock:
                entry.pins -= 1

    def retain(self, live: Iterable[MessageKey]) -> int:
        """Remove the entries of messages that are not among ``live``; returns how many went.

        ``live`` holds ``(kind, colour serial, other serial)`` of every array the buffer's frames
        may need. An entry of a held frame made with an older calibration stays until the bound
        pushes it out. Entries in use by a snapshot being written stay.
        """
        alive = {key[:3] for key in live}
        with self._lock:
            dead = [key for key, entry in self._entries.items() if key[:3] not in alive and entry.pins == 0]
            for key in dead:
                self._drop(key)
        return len(dead)

    def clear(self) -> None:
        """Remove every entry not in use by a snapshot being written."""
        self.retain(())

    # ----------------------------------------------------------------- internals

    def _pin(self, key: CacheKey | None) -> _Entry | None:
        if key is None:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.pins += 1
                self._entries.move_to_end(key)
            return entry

    def _directory(self) -> Path | None:
        """The cache directory, created on first use (None when it cannot be created)."""
        if self._root is None and not self._unavailable:
            try:
                root = Path(tempfile.mkdtemp(prefix="spatialclaw-frames-", dir=self._parent))
            except OSError:
                self._unavailable = True
                return None
            weakref.finalize(self, _remove_directory, root)
            self._root = root
        return self._root

    def has_room(self, nbytes: int) -> bool:
        """Whether ``nbytes`` more fit without pushing anything out."""
        return self._bytes + nbytes <= self.max_bytes

    def holds(self, key: CacheKey) -> bool:
        """Whether the array of ``key`` is cached."""
        return key in self._entries

    def _store(self, key: CacheKey | None, array: np.ndarray, meta: Any, evict: bool) -> _Entry | None:
        """Write a new entry (pinned once), or None when it cannot be cached."""
        if key is None:
            return None
        nbytes = array.nbytes + _NPY_HEADER_BYTES
        with self._lock:
            root = self._directory()
            if root is None or not self._reserve(nbytes, evict):
                return None
        kind, color, other, variant = key
        path = root / f"{kind}-{color}-{other}-{variant}.npy"
        partial = root / f".{path.name}.{os.getpid()}-{next(_TEMPORARY)}"
        try:
            _write_npy(partial, array)
            size = partial.stat().st_size
            partial.replace(path)
        except OSError:
            partial.unlink(missing_ok=True)
            with self._lock:
                self._bytes -= nbytes
            return None
        with self._lock:
            self._bytes += size - nbytes
            nbytes = size
            existing = self._entries.get(key)
            if existing is not None:
                # Another snapshot decoded the same frame meanwhile; its file holds the same bytes.
                self._bytes -= nbytes
                existing.pins += 1
                return existing
            entry = _Entry(path, nbytes, meta, pins=1)
            self._entries[key] = entry
            return entry

    def _reserve(self, nbytes: int, evict: bool) -> bool:
        """Count ``nbytes`` in, making room by dropping unpinned entries, oldest use first, when ``evict``."""
        if nbytes > self.max_bytes:
            return False
        if evict and self._bytes + nbytes > self.max_bytes:
            for key in [key for key, entry in self._entries.items() if entry.pins == 0]:
                self._drop(key)
                if self._bytes + nbytes <= self.max_bytes:
                    break
        if self._bytes + nbytes > self.max_bytes:
            return False
        self._bytes += nbytes
        return True

    def _drop(self, key: CacheKey) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.nbytes
        entry.path.unlink(missing_ok=True)

    @staticmethod
    def _place(source: Path, destination: Path) -> Placement:
        try:
            os.link(source, destination)
            return "linked"
        except OSError:
            shutil.copyfile(source, destination)
            destination.chmod(0o444)
            return "copied"


#: The buffer's own cache: bound relative to its ``max_memory_mb``, and how often it is warmed (s).
_DEFAULT_CACHE_FACTOR = 2.0
_DEFAULT_WARM_PERIOD_S = 0.5

_CACHES: weakref.WeakKeyDictionary[Any, SnapshotCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def snapshot_cache(buffer: Any) -> SnapshotCache:
    """The cache that :func:`~spatialclaw_ros.frames.write_snapshot` uses for ``buffer``.

    Created on first use in the system temporary directory, bounded to twice
    ``buffer.max_memory_mb`` (room for the decoded arrays of every frame the buffer can hold:
    float32 depth is twice its 16-bit message), and warmed every 0.5 s once a snapshot used it;
    it lives as long as the buffer.
    """
    with _CACHES_LOCK:
        cache = _CACHES.get(buffer)
        if cache is None:
            cache = _CACHES[buffer] = SnapshotCache(
                _DEFAULT_CACHE_FACTOR * buffer.max_memory_mb, warm_period_s=_DEFAULT_WARM_PERIOD_S
            )
        return cache


def attach_snapshot_cache(buffer: Any, cache: SnapshotCache) -> None:
    """Make ``cache`` the one snapshots of ``buffer`` use (e.g. one in the sandbox's ``work_dir``)."""
    with _CACHES_LOCK:
        _CACHES[buffer] = cache
