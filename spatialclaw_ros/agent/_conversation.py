"""The conversation of one query, its token estimate, and how it shrinks to fit the model's context.

Shrinking never fails a query. In order, until the estimate fits:
1. drop ``show()`` images, oldest first, then the key frames, oldest first (each leaves a one-line note);
2. compress old observations and old replies (oldest first; the last two turns stay whole);
3. drop the oldest steps entirely (reply and observation together, so roles keep alternating; a note
   on the turn before says how many);
4. compress the last two turns too.
The estimate is text characters / 3.2 plus 28-px patches per image, scaled by the ratio the server's
own prompt token counts showed so far.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from spatialclaw_ros.agent._images import EncodedImage, image_tokens
from spatialclaw_ros.protocol.text import utf8

CHARS_PER_TOKEN = 3.2
MESSAGE_OVERHEAD_TOKENS = 8
COMPRESSED_CHARS = 600
Kind = Literal["system", "task", "plan", "begin", "cell", "observation", "feedback"]


@dataclass
class Turn:
    """One message: its text, its images (each preceded by a text label) and what kind of turn it is."""

    role: Literal["system", "user", "assistant"]
    kind: Kind
    text: str
    images: list[EncodedImage] = field(default_factory=list)
    compressed: bool = False
    _encoded: tuple[tuple[Any, ...], bytes] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def tokens(self) -> int:
        """Estimated prompt tokens of this message, before calibration."""
        text_chars = len(self.text) + sum(len(_image_caption(image)) for image in self.images)
        return (
            MESSAGE_OVERHEAD_TOKENS
            + int(text_chars / CHARS_PER_TOKEN)
            + sum(image_tokens(image) for image in self.images)
        )

    def message(self) -> dict[str, Any]:
        """The OpenAI chat message of this turn: string content, or content parts when it has images.

        Only a turn with images is a list of parts (its text, then a caption and an image per
        image); servers whose chat template renders content as a string (llama.cpp's default
        template, text-only models) take every other turn. :meth:`tokens` counts the same text.
        """
        if not self.images:
            return {"role": self.role, "content": self.text}
        parts: list[dict[str, Any]] = [{"type": "text", "text": self.text}]
        for image in self.images:
            parts.append({"type": "text", "text": _image_caption(image)})
            parts.append({"type": "image_url", "image_url": {"url": image.data_url}})
        return {"role": self.role, "content": parts}

    def message_json(self) -> bytes:
        """:meth:`message` serialized as JSON (UTF-8), encoded again only after the turn changed.

        A query's key frames ride in every request; their base64 text is encoded into JSON once.
        Lone surrogates (a kernel's output may hold them) become U+FFFD: the JSON is always valid UTF-8.
        """
        key = (self.role, self.text, tuple(self.images))
        if self._encoded is None or self._encoded[0] != key:
            self._encoded = (key, utf8(json.dumps(self.message(), ensure_ascii=False)))
        return self._encoded[1]


class Conversation:
    """The turns of one query, with a calibrated token estimate and :meth:`fit`."""

    def __init__(self) -> None:
        """Start empty; the calibration ratio starts at 1."""
        self.turns: list[Turn] = []
        self.ratio = 1.0
        self.dropped_images = 0
        self.compressed_turns = 0
        self.dropped_turns = 0

    def add(self, turn: Turn) -> None:
        """Append a turn."""
        self.turns.append(turn)

    def messages(self, extra: list[Turn] | None = None) -> list[bytes]:
        """The chat messages as JSON (:meth:`Turn.message_json`), ``extra`` turns appended (not stored)."""
        return [turn.message_json() for turn in [*self.turns, *(extra or [])]]

    def estimate(self, extra: list[Turn] | None = None) -> int:
        """Calibrated prompt tokens of :meth:`messages` (``extra`` included)."""
        raw = sum(turn.tokens() for turn in [*self.turns, *(extra or [])])
        return int(raw * self.ratio) + 16

    def calibrate(self, estimated_tokens: int, reported_tokens: int) -> None:
        """Learn from the server's prompt token count (the ratio only moves within [0.7, 3])."""
        if estimated_tokens > 0 and reported_tokens > 0:
            raw = estimated_tokens / self.ratio
            self.ratio = min(3.0, max(0.7, reported_tokens / raw))

    def fit(self, budget_tokens: int, extra: list[Turn] | None = None) -> bool:
        """Shrink until :meth:`estimate` is within ``budget_tokens``; ``False`` when even that fails."""
        for step in (self._drop_one_image, self._compress_one, self._drop_oldest_step, self._compress_recent):
            while self.estimate(extra) > budget_tokens:
                if not step():
                    break
        return self.estimate(extra) <= budget_tokens

    def _drop_one_image(self) -> bool:
        for kinds in (("observation", "feedback"), ("task",)):
            for turn in self.turns:
                if turn.kind in kinds and turn.images:
                    image = turn.images.pop(0)
                    turn.text += f"\n[image {image.label!r} removed to save context]"
                    self.dropped_images += 1
                    return True
        return False

    def _compress_one(self, protected: int = 2) -> bool:
        for index, turn in enumerate(self.turns[: len(self.turns) - protected]):
            if turn.kind in ("observation", "cell", "feedback", "plan") and not turn.compressed:
                if len(turn.text) > COMPRESSED_CHARS + 80:
                    kept = turn.text[:COMPRESSED_CHARS]
                    cut = len(turn.text) - COMPRESSED_CHARS
                    turn.text = f"{kept}\n[... {cut} characters of this old turn removed to save context]"
                turn.compressed = True
                self.compressed_turns += 1
                self.turns[index] = turn
                return True
        return False

    def _compress_recent(self) -> bool:
        return self._compress_one(protected=0)

    def _drop_oldest_step(self) -> bool:
        """Remove the oldest reply and the user turn after it (roles keep alternating)."""
        for index in range(1, len(self.turns) - 3):
            turn, answer = self.turns[index], self.turns[index + 1]
            if turn.role == "assistant" and turn.kind == "cell" and answer.role == "user":
                del self.turns[index : index + 2]
                self.dropped_turns += 1
                before = self.turns[index - 1]
                marker = "\n[older steps removed to save context: "
                head = before.text.split(marker)[0]
                before.text = f"{head}{marker}{self.dropped_turns}]"
                return True
        return False


def _image_caption(image: EncodedImage) -> str:
    return f"Image: {image.label}" if image.label else "Image:"
