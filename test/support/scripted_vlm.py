"""A scripted OpenAI-compatible server on 127.0.0.1 for tests: answers from a scenario, records requests.

Real HTTP (``http.server`` in a thread). ``GET /v1/models`` lists one model; every
``POST /v1/chat/completions`` consumes the next scenario entry:

- ``content``: the assistant text to answer with (200);
- ``status`` (+ ``message``): an error response in vLLM's format instead; with ``error`` (a mapping)
  in OpenAI's format ``{"error": {...}}``; with ``text``, a plain-text body;
- ``delay_s``: wait before answering (a slow server);
- ``expect``: substring(s) the request's LAST message must contain; ``expect_images``: how many
  images the last message must carry; a mismatch is recorded in :attr:`ScriptedVLM.errors`;
- ``repeat: true``: the entry is never consumed (answers every later request);
  ``repeat_count: N``: the entry answers the next N requests.

With ``context_tokens`` set, a request whose prompt (characters / ``chars_per_token``, plus 28-px
patches per image) plus ``max_tokens`` exceeds it gets vLLM's 400 context-length error; it is kept in
:attr:`ScriptedVLM.overflows` and consumes no entry. Scenario files
are YAML with the keys ``model``, ``context_tokens``, ``chars_per_token`` and ``replies``.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

SCENARIO_DIR = Path(__file__).parent / "scenarios"


@dataclass
class RecordedRequest:
    """One chat request as the server received it."""

    received_s: float
    body: dict[str, Any]
    authorization: str
    prompt_tokens: int
    answered_s: float = math.nan  # time.monotonic() when the reply started to leave

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The request's messages."""
        return self.body.get("messages", [])

    def text(self, index: int = -1) -> str:
        """All text parts of one message (default: the last)."""
        return message_text(self.messages[index])

    def images(self, index: int = -1) -> list[np.ndarray]:
        """The decoded images (RGB) of one message (default: the last)."""
        return message_images(self.messages[index])

    def all_images(self) -> int:
        """How many images the whole request carries."""
        return sum(len(image_parts(message)) for message in self.messages)


@dataclass
class Scenario:
    """What the server answers, in order."""

    replies: list[dict[str, Any]]
    model: str = "scripted-vlm"
    context_tokens: int | None = None
    chars_per_token: float = 4.0
    cursor: int = field(default=0, repr=False)

    @classmethod
    def load(cls, name: str) -> Scenario:
        """Load ``scenarios/<name>.yaml``."""
        data = yaml.safe_load((SCENARIO_DIR / f"{name}.yaml").read_text())
        return cls(
            replies=expand(data["replies"]),
            model=data.get("model", "scripted-vlm"),
            context_tokens=data.get("context_tokens"),
            chars_per_token=float(data.get("chars_per_token", 4.0)),
        )


def expand(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The entries with each ``repeat_count: N`` entry written out N times."""
    replies = []
    for entry in entries:
        replies.extend(dict(entry) for _ in range(int(entry.get("repeat_count", 1))))
    return replies


def image_parts(message: Mapping[str, Any]) -> list[str]:
    """The data URLs of a message's image parts."""
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [part["image_url"]["url"] for part in content if part.get("type") == "image_url"]


def message_text(message: Mapping[str, Any]) -> str:
    """The text of a message (all text parts joined)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text", "") for part in content or [] if part.get("type") == "text")


def image_size(data: bytes) -> tuple[int, int]:
    """(height, width) of JPEG or PNG bytes, read from the header (decoding only when that fails)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[20:24], "big"), int.from_bytes(data[16:20], "big")
    position = 2
    while data[:2] == b"\xff\xd8" and position + 9 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = data[position + 5 : position + 7], data[position + 7 : position + 9]
            return int.from_bytes(height, "big"), int.from_bytes(width, "big")
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return decoded.shape[:2] if decoded is not None else (0, 0)


def message_images(message: Mapping[str, Any]) -> list[np.ndarray]:
    """The images of a message, decoded to RGB arrays."""
    images = []
    for url in image_parts(message):
        data = base64.b64decode(url.split(",", 1)[1])
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        images.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return images


class ScriptedVLM:
    """The server; use as a context manager or call :meth:`start`/:meth:`stop`."""

    def __init__(self, scenario: Scenario | str | Sequence[Mapping[str, Any]], **options: Any) -> None:
        """``scenario``: a :class:`Scenario`, a scenario file name, or a list of reply entries."""
        if isinstance(scenario, str):
            scenario = Scenario.load(scenario)
        elif not isinstance(scenario, Scenario):
            scenario = Scenario(replies=expand(scenario), **options)
        self.scenario = scenario
        self.requests: list[RecordedRequest] = []
        self.errors: list[str] = []
        self.overflows: list[RecordedRequest] = []
        self.model_list_calls = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> ScriptedVLM:
        """Listen on a free port of 127.0.0.1."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering (slow replies in progress end at once)."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> ScriptedVLM:
        """Start."""
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        """Stop."""
        self.stop()

    def next_entry(self, request: RecordedRequest) -> dict[str, Any]:
        """Record ``request`` and pick the scenario entry that answers it."""
        with self._lock:
            self.requests.append(request)
            replies = self.scenario.replies
            if self.scenario.cursor >= len(replies):
                self.errors.append(f"request {len(self.requests)}: the scenario is exhausted")
                return {"status": 500, "message": "scenario exhausted"}
            entry = replies[self.scenario.cursor]
            if not entry.get("repeat"):
                self.scenario.cursor += 1
        self._check(entry, request)
        return entry

    def overflowed(self, request: RecordedRequest) -> None:
        """Record a request refused for its length (it consumes no scenario entry)."""
        with self._lock:
            self.overflows.append(request)

    def prompt_tokens(self, body: Mapping[str, Any]) -> int:
        """The server's own count of a request's prompt tokens."""
        chars = 0
        patches = 0
        for message in body.get("messages", []):
            chars += len(message_text(message))
            for url in image_parts(message):
                height, width = image_size(base64.b64decode(url.split(",", 1)[1]))
                patches += -(-height // 28) * -(-width // 28)
        return int(chars / self.scenario.chars_per_token) + patches + 4 * len(body.get("messages", []))

    def _check(self, entry: Mapping[str, Any], request: RecordedRequest) -> None:
        number = len(self.requests)
        expected = entry.get("expect", [])
        for text in [expected] if isinstance(expected, str) else expected:
            if text not in request.text():
                self.errors.append(f"request {number}: last message lacks {text!r}: {request.text()[:300]!r}")
        if "expect_images" in entry and len(request.images()) != entry["expect_images"]:
            self.errors.append(
                f"request {number}: expected {entry['expect_images']} images, got {len(request.images())}"
            )

    def wait(self, seconds: float) -> None:
        """Sleep, but wake up when the server stops."""
        self._stopping.wait(seconds)


def _handler_class(server: ScriptedVLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in separate writes; without TCP_NODELAY, Nagle + delayed ACK adds ~40 ms.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            if self.path.rstrip("/") != "/v1/models":
                self._send(404, {"object": "error", "message": f"no route {self.path}", "code": 404})
                return
            server.model_list_calls += 1
            model = {"id": server.scenario.model, "object": "model", "created": 0, "owned_by": "scripted"}
            self._send(200, {"object": "list", "data": [model]})

        def do_POST(self) -> None:
            received_s = time.monotonic()
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"object": "error", "message": f"no route {self.path}", "code": 404})
                return
            tokens = server.prompt_tokens(body)
            request = RecordedRequest(received_s, body, self.headers.get("Authorization", ""), tokens)
            limit = server.scenario.context_tokens
            max_tokens = int(body.get("max_tokens") or 0)
            if limit is not None and tokens + max_tokens > limit:
                server.overflowed(request)
                message = (
                    f"This model's maximum context length is {limit} tokens. However, you requested "
                    f"{tokens + max_tokens} tokens ({tokens} in the messages, "
                    f"{max_tokens} in the completion). "
                    "Please reduce the length of the messages or completion."
                )
                error = {"object": "error", "message": message, "type": "BadRequestError", "code": 400}
                self._send(400, error, request)
                return
            entry = server.next_entry(request)
            if entry.get("delay_s"):
                server.wait(float(entry["delay_s"]))
            if "status" in entry:
                self._send_error(int(entry["status"]), entry, request)
                return
            content = str(entry.get("content", ""))
            self._send(
                200,
                {
                    "id": f"chatcmpl-{len(server.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": server.scenario.model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": content},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": tokens,
                        "completion_tokens": max(1, len(content) // 4),
                        "total_tokens": tokens + max(1, len(content) // 4),
                    },
                },
                request,
            )

        def _send_error(self, status: int, entry: Mapping[str, Any], request: RecordedRequest) -> None:
            if "text" in entry:
                self._send(status, str(entry["text"]), request)
            elif "error" in entry:
                self._send(status, {"error": dict(entry["error"])}, request)
            else:
                message = entry.get("message", "scripted error")
                self._send(
                    status, {"object": "error", "message": message, "type": "Error", "code": status}, request
                )

        def _send(
            self, status: int, payload: Mapping[str, Any] | str, request: RecordedRequest | None = None
        ) -> None:
            plain = isinstance(payload, str)
            data = payload.encode() if plain else json.dumps(payload).encode()
            if request is not None:
                request.answered_s = time.monotonic()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8" if plain else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                return

    return Handler


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on (for a 'server down' endpoint)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
