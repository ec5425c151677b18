"""Results of one cell, and the pure helpers that build them from untrusted kernel messages."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_CELL_FRAME = re.compile(r"^[ \t]*Cell In\s*\[(\d+)\],\s*line (\d+)", re.M)
_LINE_END = re.compile(r"\r\n|\r|\n")
_IMAGE_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}
MAX_DISPLAYS_PER_CELL = 64
_MAX_MIME_LEN = 100


@dataclass(frozen=True)
class CellError:
    """The exception a cell raised: name, value, traceback (ANSI stripped, capped) and the failing cell line.

    ``line_no`` is 1-based and counts the lines of the cell's code exactly as it was sent (leading blank
    lines and comments included, lines ended by LF, CRLF or CR as Python ends them); ``line`` is that
    line's text without its line end. They name the innermost frame of this cell: the failing line
    inside a function the cell defined, or the cell's line that called the library code that raised; for a
    SyntaxError the line the parser rejected. Both are None when the error did not happen in the cell's
    code (or the line could not be found).
    """

    ename: str
    evalue: str
    traceback: str
    line_no: int | None
    line: str | None


@dataclass(frozen=True)
class Display:
    """One display (``display()``, ``show()``, a figure, or the cell's last expression).

    ``data`` maps mime type to content as Jupyter sends it: image/* as base64 text, application/json
    serialised to a JSON string, text/* as text. ``metadata`` is the kernel's metadata (untrusted).
    """

    data: Mapping[str, str]
    metadata: Mapping[str, Any]


@dataclass(frozen=True)
class CellResult:
    """What one cell did.

    ``status``: ok; error (the cell raised, or was interrupted: ``error.ename == "KeyboardInterrupt"``);
    timeout (ran past its time limit and was interrupted, or killed); died (the kernel process ended, e.g.
    on SIGXCPU or a kill). ``state_lost`` is True when the kernel had to be killed: the next cell runs in a
    fresh kernel (preload done, the cell's variables gone). ``truncated`` is True when output was cut.
    """

    status: Literal["ok", "error", "timeout", "died"]
    stdout: str
    stderr: str
    error: CellError | None
    displays: tuple[Display, ...]
    duration_s: float
    state_lost: bool
    truncated: bool


class CappedText:
    """Accumulates text up to ``max_chars``: keeps the head and the tail, cuts the middle with a marker."""

    def __init__(self, max_chars: int) -> None:
        """Start empty; ``max_chars`` (> 0) bounds the kept characters, marker excluded."""
        if max_chars <= 0:
            raise ValueError(f"max_chars must be positive, got {max_chars}")
        self._head_max = max_chars // 2
        self._tail_max = max_chars - self._head_max
        self._head: list[str] = []
        self._head_len = 0
        self._tail = ""
        self._cut = 0

    @property
    def truncated(self) -> bool:
        """True when some characters were cut."""
        return self._cut > 0

    def append(self, text: str) -> None:
        """Add ``text`` at the end."""
        if self._head_len < self._head_max:
            take = text[: self._head_max - self._head_len]
            self._head.append(take)
            self._head_len += len(take)
            text = text[len(take) :]
        if not text:
            return
        joined = self._tail + text
        excess = len(joined) - self._tail_max
        if excess > 0:
            self._cut += excess
            joined = joined[excess:]
        self._tail = joined

    def text(self) -> str:
        """The kept text, with ``[... N characters cut ...]`` where the middle was cut."""
        head = "".join(self._head)
        if self._cut:
            return f"{head}\n[... {self._cut} characters cut ...]\n{self._tail}"
        return head + self._tail


def strip_ansi(text: str) -> str:
    """Remove ANSI escape sequences (colours, cursor moves, OSC titles) from ``text``."""
    return _ANSI.sub("", text)


def cap_text(text: str, max_chars: int) -> tuple[str, bool]:
    """``text`` capped to ``max_chars`` (head and tail kept) and whether it was cut."""
    capped = CappedText(max_chars)
    capped.append(text)
    return capped.text(), capped.truncated


def _cell_lines(code: str) -> list[str]:
    """The lines of ``code`` as Python numbers them, without their line ends (``lines[n - 1]`` is line n).

    Only LF, CRLF and CR end a line of Python source; ``str.splitlines`` also splits at form feeds, NEL,
    the Unicode line and paragraph separators and other characters that Python keeps inside a line, which
    would shift every line after them.
    """
    lines = _LINE_END.split(code)
    if lines[-1] == "":
        lines.pop()
    return lines


def failing_cell_line(
    traceback_text: str, code: str, execution_count: int | None
) -> tuple[int | None, str | None]:
    """The 1-based line of ``code`` where the error happened, and its text, from an IPython traceback.

    IPython starts each frame of a cell with a line ``Cell In[<execution count>], line <n>``, n being
    1-based in the cell as sent (the kernel keeps its leading blank lines, see ``_kernel_main``); frames
    run from outermost to innermost, so the last header of this cell is its innermost frame. Frames of
    other cells (other execution counts) are skipped; with ``execution_count`` None every cell's frames
    count. Returns ``(None, None)`` when no frame of this cell appears or the line is out of range.
    """
    lines = _cell_lines(code)
    found: int | None = None
    for match in _CELL_FRAME.finditer(traceback_text):
        count, line_no = int(match.group(1)), int(match.group(2))
        if execution_count is None or count == execution_count:
            found = line_no
    if found is None or not 1 <= found <= len(lines):
        return None, None
    return found, lines[found - 1]


def cell_error(
    ename: Any, evalue: Any, traceback: Any, code: str, execution_count: int | None, max_chars: int
) -> CellError:
    """A ``CellError`` from the untrusted fields of an error reply (any types accepted, all capped)."""
    if isinstance(traceback, Sequence) and not isinstance(traceback, str):
        tb_text = strip_ansi("\n".join(str(part) for part in traceback))
    else:
        tb_text = strip_ansi(str(traceback or ""))
    line_no, line = failing_cell_line(tb_text, code, execution_count)
    return CellError(
        ename=cap_text(strip_ansi(str(ename)), 200)[0],
        evalue=cap_text(strip_ansi(str(evalue)), 2_000)[0],
        traceback=cap_text(tb_text, max_chars)[0],
        line_no=line_no,
        line=line,
    )


def _valid_image(mime: str, value: str) -> bool:
    magics = _IMAGE_MAGIC.get(mime)
    if magics is None:
        return mime == "image/svg+xml"
    try:
        head = base64.b64decode(value[:64], validate=False)
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return any(head.startswith(magic) for magic in magics)


def sanitize_display(content: Any, budget_bytes: int) -> tuple[Display | None, int, str | None]:
    """Turn the content of an untrusted display message into a ``Display`` within ``budget_bytes``.

    Returns the display (None when dropped), the bytes it uses, and a note saying why something was
    dropped. Non-string values become JSON text; image/* values must be valid base64 of that image type.
    """
    if not isinstance(content, Mapping) or not isinstance(content.get("data"), Mapping):
        return None, 0, "display without a data bundle dropped"
    data: dict[str, str] = {}
    notes: list[str] = []
    size = 0
    for mime, value in content["data"].items():
        if not isinstance(mime, str) or not 0 < len(mime) <= _MAX_MIME_LEN or "/" not in mime:
            notes.append("display with an invalid mime type dropped")
            continue
        text = value if isinstance(value, str) else _to_json(value)
        if mime.startswith("image/") and not _valid_image(mime, text):
            notes.append(f"invalid {mime} dropped")
            continue
        item_size = len(text.encode("utf-8", "replace"))
        if size + item_size > budget_bytes:
            notes.append(f"{mime} dropped: display output over its size limit")
            continue
        data[mime] = text
        size += item_size
    if not data:
        return None, 0, "; ".join(notes) or "empty display dropped"
    raw_meta = content.get("metadata")
    metadata: dict[str, Any] = {}
    if isinstance(raw_meta, Mapping):
        meta_text = _to_json(raw_meta)
        if len(meta_text) <= 10_000:
            metadata = json.loads(meta_text)
    return Display(data=data, metadata=metadata), size, "; ".join(notes) or None


def _to_json(value: Any) -> str:
    try:
        return json.dumps(value, default=str, allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        return json.dumps(str(value))
