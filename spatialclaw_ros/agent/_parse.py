"""Split a model reply into its reasoning and its one Python cell.

Tolerated: ``<think>…</think>`` blocks (also an unclosed one, or a closing tag whose opening the
server stripped), prose before and after the cell, a missing closing fence at the end, fences
marked ``python``/``py``/``python3``/``ipython`` or unmarked. Not tolerated (reported back to the
model): no cell, an empty cell, or more than one Python cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_THINK_BLOCK = re.compile(r"<think>.*?(?:</think>|\Z)", re.S | re.I)
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([A-Za-z0-9_+-]*)[^\n]*$", re.M)
_PYTHON_TAGS = ("", "python", "py", "python3", "ipython", "python3-repl")


@dataclass(frozen=True)
class ParsedReply:
    """A reply split in parts: ``code`` is ``None`` when ``error`` says why there is no usable cell."""

    reasoning: str
    code: str | None
    error: str | None
    thinking: str


def parse_reply(text: str) -> ParsedReply:
    """Find the one Python cell of a reply (see the module docstring for what is tolerated)."""
    thinking, visible = _split_thinking(text)
    blocks: list[tuple[int, int, str]] = []
    other_spans: list[tuple[int, int]] = []
    position = 0
    while True:
        opening = _FENCE.search(visible, position)
        if opening is None:
            break
        fence, tag = opening.group(1), opening.group(2).lower()
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*\r?$", re.M)
        end = closing.search(visible, opening.end())
        body_end = end.start() if end else len(visible)
        block_end = end.end() if end else len(visible)
        if tag in _PYTHON_TAGS:
            blocks.append((opening.start(), block_end, visible[opening.end() + 1 : body_end]))
        else:
            other_spans.append((opening.start(), block_end))
        position = block_end
    if not blocks:
        return ParsedReply(visible.strip(), None, "no_code", thinking)
    if len(blocks) > 1:
        return ParsedReply(_outside(visible, blocks), None, "many_cells", thinking)
    code = _dedent_fence(blocks[0][2])
    if not code.strip():
        return ParsedReply(_outside(visible, blocks), None, "empty_cell", thinking)
    return ParsedReply(_outside(visible, blocks), code, None, thinking)


def _split_thinking(text: str) -> tuple[str, str]:
    thinking_parts: list[str] = []
    closing = text.lower().find("</think>")
    opening = text.lower().find("<think>")
    if closing != -1 and (opening == -1 or closing < opening):
        thinking_parts.append(text[:closing])
        text = text[closing + len("</think>") :]
    for match in _THINK_BLOCK.finditer(text):
        thinking_parts.append(re.sub(r"</?think>", "", match.group(0), flags=re.I))
    visible = _THINK_BLOCK.sub("", text)
    return "\n".join(part.strip() for part in thinking_parts if part.strip()), visible


def _outside(text: str, blocks: list[tuple[int, int, str]]) -> str:
    parts = []
    position = 0
    for start, end, _ in blocks:
        parts.append(text[position:start])
        position = end
    parts.append(text[position:])
    return "\n".join(part.strip() for part in parts if part.strip())


def _dedent_fence(code: str) -> str:
    lines = code.rstrip().split("\n")
    indents = [len(line) - len(line.lstrip(" ")) for line in lines if line.strip()]
    cut = min(indents) if indents else 0
    return "\n".join(line[cut:] for line in lines)
