"""Per-query trace: a JSONL event log, images as files, and a self-contained HTML report.

Layout: ``<trace_dir>/<query_id>/events.jsonl``, ``images/NNNN.jpg``, ``report.html``. Every event is
one JSON line with ``t_s`` (seconds since the query started) and ``kind``. After each query the
oldest trace directories are deleted until ``trace_dir`` is within its size cap. The API key never
reaches a trace: the agent never puts it in an event.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import IO, Any

from spatialclaw_ros.agent._images import EncodedImage
from spatialclaw_ros.agent._report import write_report

LOG = logging.getLogger("spatialclaw_ros.agent")
EVENTS_FILE = "events.jsonl"
REPORT_FILE = "report.html"
_SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_query_id(query_id: str) -> str:
    """``query_id`` made safe as a directory name; a fresh id when empty."""
    cleaned = _SAFE_ID.sub("_", query_id).strip("._")[:100]
    return cleaned or time.strftime("%Y%m%dT%H%M%S") + "_" + uuid.uuid4().hex[:8]


class Trace:
    """The trace of one query; a disabled trace (``root=None``) records events in memory only."""

    def __init__(self, root: Path | None, query_id: str, max_total_mb: float) -> None:
        """Create ``root/<query_id>/`` (a suffix is added if it exists)."""
        self.started = time.monotonic()
        self.write_s = 0.0  # seconds spent recording events and images so far
        self.events: list[dict[str, Any]] = []
        self._max_total_bytes = int(max_total_mb * 1024 * 1024)
        self._root = root
        self._file: IO[str] | None = None
        self._images = 0
        self._paths: dict[int, str] = {}
        self._keep: list[EncodedImage] = []  # keeps ids unique while the query runs
        self.dir: Path | None = None
        if root is None:
            return
        name = safe_query_id(query_id)
        directory = root / name
        suffix = 1
        while directory.exists():
            directory = root / f"{name}-{suffix}"
            suffix += 1
        try:
            (directory / "images").mkdir(parents=True)
            self._file = (directory / EVENTS_FILE).open("a", encoding="utf-8")
            self.dir = directory
        except OSError as error:
            LOG.error("cannot write traces under %s: %s", root, error)

    @property
    def uri(self) -> str:
        """``file://`` URI of the HTML report; empty when tracing is off."""
        return (self.dir / REPORT_FILE).resolve().as_uri() if self.dir is not None else ""

    def elapsed_s(self) -> float:
        """Seconds since the query started."""
        return time.monotonic() - self.started

    def event(self, kind: str, **fields: Any) -> None:
        """Record one event (and append it to ``events.jsonl``)."""
        started = time.monotonic()
        record = {"t_s": round(started - self.started, 4), "kind": kind, **fields}
        self.events.append(record)
        if self._file is not None:
            try:
                self._file.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")
                self._file.flush()
            except OSError as error:
                LOG.error("trace write failed: %s", error)
                self._file = None
        self.write_s += time.monotonic() - started

    def image(self, image: EncodedImage) -> str | None:
        """Store an image once as ``images/NNNN.jpg``; return its path relative to the trace directory."""
        if self.dir is None:
            return None
        if id(image) in self._paths:
            return self._paths[id(image)]
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
        self._paths[id(image)] = relative
        self._keep.append(image)
        return relative

    def finish(self) -> None:
        """Close the log, write ``report.html`` and prune old traces beyond the size cap."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.dir is None or self._root is None:
            return
        try:
            write_report(self.dir, self.events, self.dir / REPORT_FILE)
        except OSError as error:
            LOG.error("trace report write failed: %s", error)
        prune_traces(self._root, self._max_total_bytes, keep=self.dir)


def prune_traces(root: Path, max_total_bytes: int, keep: Path) -> list[Path]:
    """Delete the oldest trace directories under ``root`` until their total size fits; return them."""
    traces = []
    for directory in root.iterdir():
        if directory.is_dir() and (directory / EVENTS_FILE).exists():
            size = sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())
            traces.append((directory.stat().st_mtime, directory, size))
    traces.sort()
    total = sum(size for _, _, size in traces)
    removed = []
    for _, directory, size in traces:
        if total <= max_total_bytes:
            break
        if directory == keep:
            continue
        shutil.rmtree(directory, ignore_errors=True)
        total -= size
        removed.append(directory)
    return removed
