"""The little HTTP/1.1 the node's per-kernel servers speak (``vlm.sock``, ``perception.sock``).

One request per connection: the request head is parsed here, the reply is JSON with ``Connection: close``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 411: "Length Required", 413: "Too Large"}


def parse_head(head: bytes) -> tuple[str, str, dict[str, str]] | None:
    """Method, target and lower-cased headers of a request head; None when it is not HTTP/1.x."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return None
    headers = {}
    for line in lines[1:]:
        if not line:
            continue
        name, separator, value = line.partition(":")
        if not separator:
            return None
        headers[name.strip().lower()] = value.strip()
    return parts[0], parts[1], headers


def status_line(status: int) -> str:
    """``HTTP/1.1 <status> <reason>``."""
    return f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}"


async def write_json(writer: asyncio.StreamWriter, status: int, payload: dict[str, Any]) -> None:
    """Send ``payload`` as the JSON reply (the connection closes after it); a gone peer is ignored."""
    body = json.dumps(payload).encode("utf-8")
    head = (
        f"{status_line(status)}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    with contextlib.suppress(ConnectionError):
        writer.write(head.encode("latin-1") + body)
        await writer.drain()
