"""What the model sees after a cell: status, output (head + tail), error summary, variables, images.

Everything that comes out of the kernel is untrusted: the step report is parsed defensively and
every text is capped before it reaches the model or the trace.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from spatialclaw_ros.agent import _prompts
from spatialclaw_ros.runtime.namespace import READY_MIME, STEP_MIME
from spatialclaw_ros.runtime.show import METADATA_KEY
from spatialclaw_ros.sandbox import CellResult

IMAGE_MIMES = ("image/png", "image/jpeg")
TRACEBACK_LINES = 12
MAX_SUMMARY_CHARS = 300
MAX_OUTPUT_DISPLAYS = 5


@dataclass(frozen=True)
class Variable:
    """One variable the cell created (``new``) or changed, with its one-line summary."""

    name: str
    new: bool
    summary: str


@dataclass(frozen=True)
class CellReport:
    """What a cell's displays carried: the step report, the images, other outputs, the ready note."""

    variables: tuple[Variable, ...]
    more_variables: int
    answer: Mapping[str, Any] | None
    images: tuple[tuple[bytes, str], ...]
    outputs: tuple[str, ...]
    ready: Mapping[str, Any] | None
    reported: bool


def read_cell(result: CellResult) -> CellReport:
    """Sort a cell's displays into the step report, images (bytes, label) and text outputs."""
    variables: list[Variable] = []
    more = 0
    answer: Mapping[str, Any] | None = None
    images: list[tuple[bytes, str]] = []
    outputs: list[str] = []
    ready: Mapping[str, Any] | None = None
    reported = False
    for display in result.displays:
        data = display.data
        if STEP_MIME in data:
            step = _json(data[STEP_MIME])
            if step is None:
                continue
            reported = True
            variables = _variables(step.get("variables"))
            more = step.get("more_variables") if isinstance(step.get("more_variables"), int) else 0
            answer = step.get("answer") if isinstance(step.get("answer"), Mapping) else None
        elif READY_MIME in data:
            ready = _json(data[READY_MIME])
        elif any(mime in data for mime in IMAGE_MIMES):
            mime = next(mime for mime in IMAGE_MIMES if mime in data)
            try:
                image = base64.b64decode(data[mime], validate=True)
            except (binascii.Error, ValueError):
                continue
            images.append((image, _label(display.metadata, len(images) + 1)))
        elif "text/plain" in data and len(outputs) < MAX_OUTPUT_DISPLAYS:
            outputs.append(data["text/plain"])
    return CellReport(tuple(variables), more, answer, tuple(images), tuple(outputs), ready, reported)


def cut_middle(text: str, max_chars: int) -> str:
    """``text`` with its middle replaced by a marker when longer than ``max_chars`` (head and tail kept)."""
    if len(text) <= max_chars:
        return text
    head = max_chars * 2 // 3
    tail = max_chars - head
    return f"{text[:head]}\n[... {len(text) - head - tail} characters cut ...]\n{text[-tail:]}"


def error_summary(result: CellResult) -> str:
    """One paragraph naming the exception, the failing line of the model's cell and the traceback's end."""
    error = result.error
    if error is None:
        return ""
    where = f" at line {error.line_no}: `{error.line.strip()}`" if error.line_no and error.line else ""
    lines = [line for line in error.traceback.splitlines() if line.strip()]
    tail = "\n".join(lines[-TRACEBACK_LINES:])
    return f"Error: {error.ename}: {error.evalue}{where}\nTraceback (last lines):\n{tail}"


def observation_text(
    *,
    step: int,
    max_steps: int,
    result: CellResult,
    report: CellReport,
    image_labels: list[str],
    image_note: str,
    notes: list[str],
    output_max_chars: int,
) -> str:
    """The text of one observation (its images travel as separate parts after it)."""
    status = {
        "ok": "the cell ran",
        "error": "the cell raised an error",
        "timeout": "the cell ran past its time limit and was stopped",
        "died": "the kernel died (a memory or CPU limit?)",
    }.get(result.status, result.status)
    parts: list[str] = []
    if result.stdout.strip():
        parts.append("stdout:\n" + cut_middle(result.stdout.rstrip(), output_max_chars))
    if result.stderr.strip():
        parts.append("stderr:\n" + cut_middle(result.stderr.rstrip(), output_max_chars))
    for output in report.outputs:
        parts.append("Output:\n" + cut_middle(output.rstrip(), output_max_chars // 2))
    if result.error is not None and result.status != "ok":
        parts.append(cut_middle(error_summary(result), output_max_chars))
    if report.variables:
        lines = [
            f"  {variable.name} ({'new' if variable.new else 'changed'}): {variable.summary}"
            for variable in report.variables
        ]
        if report.more_variables:
            lines.append(f"  ... and {report.more_variables} more")
        parts.append("Variables:\n" + "\n".join(lines))
    if image_labels:
        listed = "; ".join(f"{k + 1}. {label}" for k, label in enumerate(image_labels))
        parts.append(f"Images shown below: {listed}")
    if image_note:
        parts.append(image_note)
    if not parts:
        parts.append("(no output)")
    parts.extend(note for note in notes if note)
    return _prompts.render(
        "observation",
        step=step,
        max_steps=max_steps,
        status_line=f"{status} ({result.duration_s:.2f} s).",
        body="\n\n".join(parts),
    )


def _json(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, Mapping):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return None
    return parsed if isinstance(parsed, Mapping) else None


def _variables(raw: Any) -> list[Variable]:
    if not isinstance(raw, list):
        return []
    variables = []
    for item in raw[:50]:
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            summary = str(item.get("summary", ""))[:MAX_SUMMARY_CHARS]
            variables.append(Variable(item["name"][:100], bool(item.get("new")), summary))
    return variables


def _label(metadata: Mapping[str, Any], number: int) -> str:
    info = metadata.get(METADATA_KEY) if isinstance(metadata, Mapping) else None
    label = info.get("label") if isinstance(info, Mapping) else None
    if isinstance(label, str) and label.strip():
        return " ".join(label.split())[:120]
    return f"image {number}"
