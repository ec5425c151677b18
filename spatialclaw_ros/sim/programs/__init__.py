"""Deterministic measurement programs that planners send as ``code`` cells, shared by the demo and tests.

The program is the text of :mod:`spatialclaw_ros.sim.programs.measure` followed by one call; the kernel
runs it like any cell (it sees ``frames``, ``tools`` and ``ReturnAnswer``). A question is a JSON-able
mapping ``{"id", "kind", "subjects", "viewer"}`` (see ``measure.answer_question``).

Example:
    >>> cell = question_cell({"id": "q1", "kind": "height", "subjects": ["red chair"]})
    >>> cell.rstrip().splitlines()[-1].startswith("ReturnAnswer(**answer_one(frames, tools, ")
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

PROGRAM_PATH = Path(__file__).with_name("measure.py")


def program_source() -> str:
    """The measurement program's source text (functions only; it answers nothing by itself)."""
    return PROGRAM_PATH.read_text(encoding="utf-8")


def question_cell(question: Mapping[str, object]) -> str:
    """A cell that answers one question with a number, a direction or a sentence, plus its geometry."""
    text = json.dumps(dict(question), sort_keys=True)
    return f"{program_source()}\n\nReturnAnswer(**answer_one(frames, tools, {text!r}))\n"


def survey_cell(questions: Sequence[Mapping[str, object]]) -> str:
    """A cell that answers every question from one snapshot: the answer is JSON ``{id: value}``."""
    text = json.dumps([dict(question) for question in questions], sort_keys=True)
    return f"{program_source()}\n\nReturnAnswer(**answer_questions(frames, tools, {text!r}))\n"


__all__ = ["PROGRAM_PATH", "program_source", "question_cell", "survey_cell"]
