"""A self-contained HTML report of one query's trace: no external resources, every text escaped.

Images are embedded as ``data:`` URIs read from the trace directory; Python cells are highlighted
with the standard library's tokenizer. The report stays within a size given in bytes: the timeline
stops with a note at the first event that would pass it. Every text is written through
:func:`~spatialclaw_ros.protocol.text.clean_text` (lone surrogates become U+FFFD).
"""

from __future__ import annotations

import base64
import builtins
import html
import io
import json
import keyword
import math
import token
import tokenize
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from spatialclaw_ros.protocol.text import clean_text

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:16px;
  color:#222;background:#fafafa}
h1{font-size:20px} h2{font-size:16px;margin:22px 0 6px} table{border-collapse:collapse}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
pre{background:#fff;border:1px solid #e3e3e3;padding:8px;overflow-x:auto;white-space:pre-wrap;margin:4px 0}
.ev{border-left:4px solid #ccc;padding:2px 10px;margin:10px 0;background:#fff}
.ev.system,.ev.user{border-color:#7aa7d8} .ev.assistant{border-color:#8bc58b} .ev.cell{border-color:#2e7d32}
.ev.cell_result{border-color:#999} .ev.error,.ev.invalid_answer,.ev.parse_error{border-color:#c62828}
.ev.answer{border-color:#f9a825} .meta{color:#777;font-size:12px}
.code{background:#f6f8fa} .kw{color:#a626a4;font-weight:600} .st{color:#50a14f}
.cm{color:#8a8a8a;font-style:italic} .nu{color:#986801} .bi{color:#4078f2} .bad{color:#c62828}
img{max-width:100%;border:1px solid #ddd;margin:4px 0}
figure{display:inline-block;margin:4px 8px 4px 0;max-width:48%} figcaption{font-size:12px;color:#555}
"""
_BUILTINS = frozenset(dir(builtins))
#: The event log beside the report (named in the note of a cut timeline).
EVENTS_FILE = "events.jsonl"
#: Bytes kept for that note.
_NOTE_BYTES = 200


def write_report(
    trace_dir: Path, events: list[dict[str, Any]], path: Path, max_bytes: int | None = None
) -> None:
    """Write the HTML report of ``events`` (images read from ``trace_dir``) to ``path``.

    ``max_bytes``: the most bytes of the timeline (None: no limit); see :func:`render_report`.
    """
    path.write_bytes(render_report(trace_dir, events, max_bytes).encode("utf-8"))


def render_report(trace_dir: Path, events: list[dict[str, Any]], max_bytes: int | None = None) -> str:
    """The HTML text of the report, valid UTF-8 whatever the events hold.

    With ``max_bytes``, the report holds its head and summary whole, then the timeline's events in
    order while the whole stays within ``max_bytes`` UTF-8 bytes, then a note of the events left out.
    """
    query = next((event for event in events if event["kind"] == "query"), {})
    outcome = next((event for event in reversed(events) if event["kind"] == "outcome"), {})
    head = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{_e(query.get('question', 'query'))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(query.get('question', ''))}</h1>",
        _summary_table(query, outcome),
        "<h2>Timeline</h2>",
    ]
    parts = [clean_text(part) for part in head]
    end = "</body></html>"
    room = math.inf if max_bytes is None else max_bytes - _size(parts) - len(end) - _NOTE_BYTES
    timeline = [event for event in events if event["kind"] not in ("query", "outcome")]
    for index, event in enumerate(timeline):
        part = clean_text(_event_html(trace_dir, event))
        room -= len(part.encode("utf-8")) + 1
        if room < 0:
            parts.append(
                f"<div class='ev error'>The report reached its size cap: {len(timeline) - index} more "
                f"event(s) are in {EVENTS_FILE} only.</div>"
            )
            break
        parts.append(part)
    parts.append(end)
    return "\n".join(parts)


def highlight_python(code: str) -> str:
    """Escaped HTML of ``code`` with keywords, strings, comments, numbers and builtins in spans."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return _e(code)
    lines = code.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    out: list[str] = []
    position = 0
    for tok in tokens:
        if tok.type in (token.ENDMARKER, token.DEDENT, token.INDENT, token.NEWLINE, token.NL):
            continue
        start = offsets[min(tok.start[0] - 1, len(lines))] + tok.start[1]
        end = offsets[min(tok.end[0] - 1, len(lines))] + tok.end[1]
        css = _token_class(tok)
        if start < position or not css:
            continue
        out.append(_e(code[position:start]))
        out.append(f"<span class='{css}'>{_e(code[start:end])}</span>")
        position = end
    out.append(_e(code[position:]))
    return "".join(out)


def _token_class(tok: tokenize.TokenInfo) -> str:
    if tok.type == token.NAME and keyword.iskeyword(tok.string):
        return "kw"
    if tok.type == token.NAME and tok.string in _BUILTINS:
        return "bi"
    if tok.type == token.STRING or tok.type == getattr(token, "FSTRING_START", -1):
        return "st"
    if tok.type == token.COMMENT:
        return "cm"
    if tok.type == token.NUMBER:
        return "nu"
    return ""


def _summary_table(query: Mapping[str, Any], outcome: Mapping[str, Any]) -> str:
    rows = [
        ("Answer", outcome.get("answer", "")),
        ("Error", f"{outcome.get('error_code', '')} {outcome.get('error_message', '')}".strip()),
        ("Answer type", query.get("answer_type", "") or "free"),
        ("Choices", ", ".join(query.get("choices", []))),
        ("Steps", outcome.get("steps", "")),
        ("Elapsed", f"{outcome.get('elapsed_s', 0.0):.2f} s"),
        ("Final answer-only call", "yes" if outcome.get("final_fallback") else "no"),
        ("Model", query.get("model", "")),
        ("Tokens per role", _json_line(outcome.get("tokens", {}))),
        ("Time per stage", _json_line(outcome.get("stage_s", {}))),
    ]
    body = "".join(f"<tr><th>{_e(name)}</th><td>{_e(value)}</td></tr>" for name, value in rows)
    return f"<table>{body}</table>"


def _event_html(trace_dir: Path, event: Mapping[str, Any]) -> str:
    kind = str(event.get("kind", ""))
    css = str(event.get("role", kind)) if kind == "message" else kind
    head = f"<div class='ev {_e(css)}'><div class='meta'>{event.get('t_s', 0):.3f} s · {_e(kind)}"
    if kind == "message":
        body = (
            f" · {_e(event.get('role'))} ({_e(event.get('turn'))})</div>"
            f"<pre>{_e(event.get('text', ''))}</pre>" + _images(trace_dir, event.get("images", []))
        )
    elif kind == "cell":
        body = (
            f" · step {_e(event.get('step'))} · {_e(event.get('source'))}</div>"
            f"<pre class='code'>{highlight_python(str(event.get('code', '')))}</pre>"
        )
    elif kind == "cell_result":
        body = _cell_result(trace_dir, event)
    elif kind == "vlm_ask":
        body = (
            f" · {float(event.get('duration_s', 0.0)):.2f} s</div>"
            f"<pre>Q: {_e(event.get('question', ''))}\n"
            f"A: {_e(event.get('answer', event.get('error', '')))}</pre>"
            + _images(trace_dir, event.get("images", []))
        )
    else:
        fields = {key: value for key, value in event.items() if key not in ("t_s", "kind")}
        body = f"</div><pre>{_e(json.dumps(fields, indent=1, default=str, ensure_ascii=False))}</pre>"
    return head + body + "</div>"


def _cell_result(trace_dir: Path, event: Mapping[str, Any]) -> str:
    status = str(event.get("status", ""))
    css = "bad" if status != "ok" else ""
    parts = [
        f" · step {_e(event.get('step'))} · <span class='{css}'>{_e(status)}</span>"
        f" · {float(event.get('duration_s', 0.0)):.3f} s</div>"
    ]
    for name in ("stdout", "stderr", "error"):
        if event.get(name):
            parts.append(f"<div class='meta'>{name}</div><pre>{_e(event[name])}</pre>")
    variables = event.get("variables") or []
    if variables:
        rows = "".join(
            f"<tr><td>{_e(item.get('name'))}</td><td>{_e(item.get('summary'))}</td></tr>"
            for item in variables
            if isinstance(item, Mapping)
        )
        parts.append(f"<table>{rows}</table>")
    parts.append(_images(trace_dir, event.get("images", [])))
    return "".join(parts)


def _images(trace_dir: Path, images: Iterable[Any]) -> str:
    figures = []
    for item in images or []:
        if not isinstance(item, Mapping) or not isinstance(item.get("path"), str):
            continue
        path = (trace_dir / item["path"]).resolve()
        if trace_dir.resolve() not in path.parents or not path.is_file():
            continue
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        figures.append(
            f"<figure><img alt='{_e(item.get('label', ''))}' src='data:image/jpeg;base64,{data}'>"
            f"<figcaption>{_e(item.get('label', ''))}</figcaption></figure>"
        )
    return "".join(figures)


def _size(parts: list[str]) -> int:
    return sum(len(part.encode("utf-8")) + 1 for part in parts)


def _json_line(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)
