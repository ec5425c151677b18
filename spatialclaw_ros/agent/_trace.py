"""Per-query trace: a JSONL event log, images as files, and a self-contained HTML report.

Layout: ``<trace_dir>/<query_id>/events.jsonl``, ``images/NNNN.jpg``, ``report.html``, and
``.running`` while the query runs. Every event is one JSON line with ``t_s`` (seconds since the query
started) and ``kind``. The API key never reaches a trace: the agent never puts it in an event.

Size: ``trace.max_mb`` bounds the whole directory; one query's trace may take ``1/QUERY_SHARE`` of it,
report included. Half of that share holds the event log and the images; an event that does not fit is
recorded with its long fields cut, or dropped, and the first one cut writes a ``truncated`` event
(another, with ``final: true`` and the totals, closes the log); the query keeps running. The report
takes the rest and cuts its timeline short with a note when it is full. The in-memory ``events`` (the
report's input) hold what the log holds, so they stay within the same bound.

Eviction: after each query the oldest finished traces are deleted until the directory fits, but never
a running one (its ``.running`` file is locked with ``flock`` while its query runs, by whatever process
runs it; a crashed process leaves an unlocked file, and its trace counts as finished) nor the
``KEEP_RECENT`` newest finished ones. When the directory cannot fit without those, it stays above the
cap and a warning is logged once until it fits again.

Text: every line is written through :func:`~spatialclaw_ros.protocol.text.utf8`, so output
holding lone surrogates is recorded (as U+FFFD) instead of failing the write.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import IO, Any

from spatialclaw_ros.agent._images import EncodedImage
from spatialclaw_ros.agent._report import EVENTS_FILE, write_report
from spatialclaw_ros.protocol.text import utf8

LOG = logging.getLogger("spatialclaw_ros.agent")
REPORT_FILE = "report.html"
RUNNING_FILE = ".running"
#: One query's trace may take ``1 / QUERY_SHARE`` of ``trace.max_mb``: the running queries and the
#: ``KEEP_RECENT`` protected ones then fit the cap together while at most four queries run at once.
QUERY_SHARE = 8
#: The newest finished traces that eviction never deletes.
KEEP_RECENT = 4
#: Share of a query's cap for the event log and the images; the report takes the rest.
RECORD_SHARE = 0.5
#: Bytes of the record budget held back for the events that close the log (outcome, truncation totals).
CLOSING_RESERVE_BYTES = 16 * 1024
#: Events that may use the closing reserve.
_CLOSING_KINDS = frozenset({"outcome", "truncated"})
#: A field longer than this (characters, or characters of its JSON) is cut when its event does not fit.
CUT_FIELD_CHARS = 2_000
_SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]+")
_MB = 1024 * 1024
_over_cap_logged = False


def safe_query_id(query_id: str) -> str:
    """``query_id`` made safe as a directory name; a fresh id when empty."""
    cleaned = _SAFE_ID.sub("_", query_id).strip("._")[:100]
    return cleaned or time.strftime("%Y%m%dT%H%M%S") + "_" + uuid.uuid4().hex[:8]


class Trace:
    """The trace of one query; a disabled trace (``root=None``) records events in memory only."""

    def __init__(self, root: Path | None, query_id: str, max_total_mb: float) -> None:
        """Create ``root/<query_id>/`` (a suffix is added if it exists), marked running until :meth:`finish`.

        ``max_total_mb`` (MiB) bounds ``root`` as a whole; this trace takes at most ``1/QUERY_SHARE``.
        """
        self.started = time.monotonic()
        self.write_s = 0.0  # seconds spent recording events and images so far
        self.events: list[dict[str, Any]] = []
        self.recorded_bytes = 0  # bytes of the event log and the images so far
        self.dropped_bytes = 0  # bytes of events, event fields and images left out by the cap
        self._max_total_bytes = int(max_total_mb * _MB)
        self.max_query_bytes = self._max_total_bytes // QUERY_SHARE
        self._record_max = int(self.max_query_bytes * RECORD_SHARE)
        self._dropped_events = 0
        self._dropped_images = 0
        self._cut_events = 0
        self._truncated = False
        self._root = root
        self._file: IO[bytes] | None = None
        self._running: IO[bytes] | None = None
        self._images = 0
        self._paths: dict[int, str] = {}
        self._keep: list[EncodedImage] = []  # keeps ids unique while the query runs
        self.dir: Path | None = None
        if root is None:
            return
        try:
            directory = _new_directory(root, safe_query_id(query_id))
            self._running = _lock_running(directory)
            (directory / "images").mkdir()
            self._file = (directory / EVENTS_FILE).open("ab")
            self.dir = directory
        except OSError as error:
            LOG.error("cannot write traces under %s: %s", root, error)

    @property
    def uri(self) -> str:
        """``file://`` URI of the HTML report; empty when tracing is off."""
        return (self.dir / REPORT_FILE).resolve().as_uri() if self.dir is not None else ""

    @property
    def truncated(self) -> bool:
        """True once the cap cut or dropped an event or an image."""
        return self._truncated

    def elapsed_s(self) -> float:
        """Seconds since the query started."""
        return time.monotonic() - self.started

    def event(self, kind: str, **fields: Any) -> None:
        """Record one event (and append it to ``events.jsonl``), cut or dropped past the query's cap."""
        started = time.monotonic()
        record = {"t_s": round(started - self.started, 4), "kind": kind, **fields}
        line = _line(record)
        limit = self._record_max - (0 if kind in _CLOSING_KINDS else CLOSING_RESERVE_BYTES)
        if self.recorded_bytes + len(line) > limit:
            record, line = self._over_cap(record, line, limit)
        if line:
            self._record(record, line)
        self.write_s += time.monotonic() - started

    def image(self, image: EncodedImage) -> str | None:
        """Store an image once as ``images/NNNN.jpg``; its path relative to the trace directory.

        None when tracing is off, the write failed, or the image does not fit the query's cap.
        """
        if self.dir is None:
            return None
        if id(image) in self._paths:
            return self._paths[id(image)]
        size = len(image.jpeg)
        if self.recorded_bytes + size > self._record_max - CLOSING_RESERVE_BYTES:
            self._dropped_images += 1
            self._note_dropped(size)
            return None
        started = time.monotonic()
        self._images += 1
        relative = f"images/{self._images:04d}.jpg"
        try:
            (self.dir / relative).write_bytes(image.jpeg)
        except OSError as error:
            LOG.error("trace image write failed: %s", error)
            return None
        finally:
            self.write_s += time.monotonic() - started
        self.recorded_bytes += size
        self._paths[id(image)] = relative
        self._keep.append(image)
        return relative

    def finish(self) -> None:
        """Close the log, write ``report.html``, mark the trace finished, prune old traces beyond the cap."""
        if self._truncated:
            self.event(
                "truncated",
                final=True,
                cap_bytes=self.max_query_bytes,
                dropped_bytes=self.dropped_bytes,
                dropped_events=self._dropped_events,
                cut_events=self._cut_events,
                dropped_images=self._dropped_images,
            )
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.dir is None or self._root is None:
            return
        try:
            report_max = max(0, self.max_query_bytes - self.recorded_bytes)
            write_report(self.dir, self.events, self.dir / REPORT_FILE, report_max)
        except OSError as error:
            LOG.error("trace report write failed: %s", error)
        if self._running is not None:
            # Unlinked before it is unlocked: no pruner ever sees this trace's file unlocked.
            (self.dir / RUNNING_FILE).unlink(missing_ok=True)
            self._running.close()
            self._running = None
        prune_traces(self._root, self._max_total_bytes, keep=self.dir)

    def _over_cap(self, record: dict[str, Any], line: bytes, limit: int) -> tuple[dict[str, Any], bytes]:
        """The record and line to write for an event past ``limit`` (bytes): cut, or nothing (dropped)."""
        self._mark_truncated()
        short = _shortened(record)
        short_line = _line(short)
        if self.recorded_bytes + len(short_line) <= limit:
            self._cut_events += 1
            self._note_dropped(len(line) - len(short_line))
            return short, short_line
        self._dropped_events += 1
        self._note_dropped(len(line))
        return record, b""

    def _note_dropped(self, size: int) -> None:
        """Count ``size`` bytes left out."""
        self._mark_truncated()
        self.dropped_bytes += size

    def _mark_truncated(self) -> None:
        """The first time the cap cuts something: log it and record the ``truncated`` marker."""
        if self._truncated:
            return
        self._truncated = True
        LOG.warning(
            "trace %s passed its cap of %.1f MiB; later output is cut",
            self.dir or "(in memory)",
            self.max_query_bytes / _MB,
        )
        self.event(
            "truncated",
            cap_bytes=self.max_query_bytes,
            message="this trace reached its size cap: later events are cut or left out, images left out",
        )

    def _record(self, record: dict[str, Any], line: bytes) -> None:
        self.events.append(record)
        self.recorded_bytes += len(line)
        if self._file is None:
            return
        try:
            self._file.write(line)
            self._file.flush()
        except OSError as error:
            LOG.error("trace write failed: %s", error)
            self._file = None


def prune_traces(
    root: Path, max_total_bytes: int, keep: Path | None = None, keep_recent: int = KEEP_RECENT
) -> list[Path]:
    """Delete the oldest finished trace directories under ``root`` until they fit; return the deleted.

    Never deleted: running traces, the ``keep_recent`` newest finished ones (by modification time),
    and ``keep``. When the total stays above ``max_total_bytes`` without them, a warning is logged once
    until a later prune fits.
    """
    global _over_cap_logged
    finished, total = [], 0
    for directory in root.iterdir():
        if not directory.is_dir() or not (directory / EVENTS_FILE).exists():
            continue
        size = _size(directory)
        total += size
        if not _is_running(directory):
            finished.append((_mtime(directory), directory, size))
    finished.sort()
    removed = []
    for _, directory, size in finished[: max(0, len(finished) - keep_recent)]:
        if total <= max_total_bytes:
            break
        if directory == keep:
            continue
        shutil.rmtree(directory, ignore_errors=True)
        total -= size
        removed.append(directory)
    if total > max_total_bytes and not _over_cap_logged:
        LOG.warning(
            "traces under %s take %.1f MiB, above trace.max_mb (%.1f MiB): running and recent ones are kept",
            root,
            total / _MB,
            max_total_bytes / _MB,
        )
    _over_cap_logged = total > max_total_bytes
    return removed


def _line(record: dict[str, Any]) -> bytes:
    """One JSONL line of ``record``, valid UTF-8 whatever strings it holds."""
    return utf8(json.dumps(record, default=str, ensure_ascii=False) + "\n")


def _shortened(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with each field longer than ``CUT_FIELD_CHARS`` cut to its head and tail.

    A long field that is not a string becomes the cut text of its JSON.
    """
    short: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, (bool, int, float)) or value is None:
            short[key] = value
            continue
        text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
        if len(text) <= CUT_FIELD_CHARS:
            short[key] = value
            continue
        head, tail = CUT_FIELD_CHARS * 2 // 3, CUT_FIELD_CHARS // 3
        cut = len(text) - head - tail
        short[key] = f"{text[:head]}\n[... {cut} characters cut by the trace cap ...]\n{text[-tail:]}"
    return short


def _new_directory(root: Path, name: str) -> Path:
    """Create and return ``root/name``, or ``root/name-N`` with the first free N."""
    root.mkdir(parents=True, exist_ok=True)
    directory, suffix = root / name, 1
    while True:
        try:
            directory.mkdir()
            return directory
        except FileExistsError:
            directory = root / f"{name}-{suffix}"
            suffix += 1


def _lock_running(directory: Path) -> IO[bytes]:
    """Create ``directory/.running`` and hold an exclusive ``flock`` on it (released when closed)."""
    running = (directory / RUNNING_FILE).open("wb")
    fcntl.flock(running, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return running


def _is_running(directory: Path) -> bool:
    """True while some process holds the lock of ``directory/.running``."""
    try:
        fd = os.open(directory / RUNNING_FILE, os.O_RDONLY)
    except FileNotFoundError:
        return False
    except OSError:
        return True  # cannot tell: never delete what may be running
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _size(directory: Path) -> int:
    """Bytes of the files under ``directory`` (files vanishing meanwhile count as empty)."""
    total = 0
    for path in directory.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except OSError:
            continue
    return total


def _mtime(directory: Path) -> float:
    try:
        return directory.stat().st_mtime
    except OSError:
        return 0.0
