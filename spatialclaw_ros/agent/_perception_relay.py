"""A kernel's only way to the perception service: a relay on a Unix socket in its services directory.

A kernel never reaches the perception service itself. While its query runs the node listens on
``<services dir>/perception.sock`` and forwards each request to the service, a local Unix socket or a
remote ``http(s)://`` URL, adding what no kernel may set or see: the query's identity (a random id per
query in ``X-Spatialclaw-Query``, by which the service schedules queries fairly, keeps its cache private
and drops the work of ended queries) and the service's bearer token.

Only ``GET /health`` and ``POST /v1/<operation>`` pass. The request head is bounded
(:data:`MAX_HEAD_BYTES`); a POST needs a ``Content-Length`` within the service's limit and its body is
streamed through in :data:`CHUNK_BYTES` chunks, never held whole. One call of a query is forwarded at a
time (the service computes one call at a time anyway, and serves queries round-robin), the others wait
here unread; at most :data:`MAX_CONNECTIONS` of one kernel may wait (more are refused at once). So a
kernel holding connections costs the node a few chunks and the service one body, not all of them.
Every refusal is the service's JSON error shape ``{"code", "message"}``, which the kernel's client
raises as ``PerceptionError``.

When the query ends, :meth:`PerceptionRelay.close` cuts the kernel's connections and tells the service
to drop whatever the query still has queued or running (``DELETE /v1/queries/<id>``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from spatialclaw_ros.agent._http_wire import parse_head, status_line, write_json
from spatialclaw_ros.protocol.perception import CONTENT_TYPE, KEY_HEADER, QUERY_HEADER, RELAY_SOCKET_NAME

LOG = logging.getLogger("spatialclaw_ros.agent")
MAX_HEAD_BYTES = 16 * 1024
CHUNK_BYTES = 1024 * 1024
MAX_CONNECTIONS = 16
CONNECT_TIMEOUT_S = 10.0
END_TIMEOUT_S = 2.0
CLOSE_WAIT_S = 2.0
MAX_SOCKET_PATH = 107
_OPERATION = re.compile(r"/v1/[a-z_]{1,32}")
_CONTENT_KEY = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class PerceptionUpstream:
    """Where the node reaches the perception service, and what the relay may forward to it.

    Attributes:
        socket_path: the service's Unix socket on this machine (or None).
        url: the service's ``http(s)://host:port[/prefix]`` (or None); exactly one of the two is set.
        token: bearer token the relay adds to every request (never shown to a kernel); None: none.
        max_request_bytes: largest request body forwarded (the service's ``max_request_mb``), bytes.
        call_timeout_s: longest wait for the service's reply to one call, seconds.
    """

    socket_path: str | None = None
    url: str | None = None
    token: str | None = field(default=None, repr=False)
    max_request_bytes: int = 96 * 1024 * 1024
    call_timeout_s: float = 180.0

    def __post_init__(self) -> None:
        """Reject an upstream that names no service, or two."""
        if (self.socket_path is None) == (self.url is None):
            raise ValueError("give exactly one of socket_path and url")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"perception url must be http(s)://host:port, got {self.url!r}")

    @property
    def base_url(self) -> str:
        """The URL requests are sent to (through the Unix socket's connector when there is one)."""
        return "http://localhost" if self.url is None else self.url.rstrip("/")

    def session(self) -> aiohttp.ClientSession:
        """A client session reaching the service (call inside a running event loop).

        https: the certificate is checked against the system's trust store, read now (``SSL_CERT_FILE``
        and ``SSL_CERT_DIR`` name another, as for every Python TLS client).
        """
        connector: aiohttp.BaseConnector | None = None
        if self.socket_path is not None:
            connector = aiohttp.UnixConnector(path=self.socket_path)
        elif self.url is not None and self.url.startswith("https://"):
            connector = aiohttp.TCPConnector(ssl=ssl.create_default_context())
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=CONNECT_TIMEOUT_S, sock_read=self.call_timeout_s
        )
        return aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False)

    def headers(self, query_id: str) -> dict[str, str]:
        """The headers only the node adds: the query's identity and the bearer token."""
        headers = {QUERY_HEADER: query_id}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers


class PerceptionRelay:
    """Serves ``<services_dir>/perception.sock`` for one query, forwarding to ``upstream``."""

    def __init__(self, services_dir: Path, upstream: PerceptionUpstream) -> None:
        """A relay with a fresh query identity; :meth:`start` opens the socket."""
        self.path = services_dir / RELAY_SOCKET_NAME
        self.query_id = secrets.token_hex(16)
        self._upstream = upstream
        self._server: asyncio.AbstractServer | None = None
        self._session: aiohttp.ClientSession | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._forwarding = asyncio.Lock()

    async def start(self) -> None:
        """Create the socket (replacing a stale one). Raises ``OSError`` when it cannot."""
        if len(str(self.path)) > MAX_SOCKET_PATH:
            raise OSError(f"socket path {self.path} is longer than {MAX_SOCKET_PATH} bytes")
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._session = self._upstream.session()
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.path), limit=MAX_HEAD_BYTES)

    async def close(self) -> None:
        """Stop listening, cut the kernel's connections, end the query's work at the service.

        Bounded: at most ``CLOSE_WAIT_S`` for the connections and ``END_TIMEOUT_S`` for the service.
        """
        if self._server is not None:
            self._server.close()
            for writer in self._writers:
                writer.transport.abort()
            for task in self._handlers:
                task.cancel()
            if self._handlers:
                await asyncio.wait(self._handlers, timeout=CLOSE_WAIT_S)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), CLOSE_WAIT_S)
            self._server = None
        if self._session is not None:
            await self._end_query(self._session)
            await self._session.close()
            self._session = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _end_query(self, session: aiohttp.ClientSession) -> None:
        upstream = self._upstream
        try:
            async with session.delete(
                f"{upstream.base_url}/v1/queries/{self.query_id}",
                headers=upstream.headers(self.query_id),
                timeout=aiohttp.ClientTimeout(total=END_TIMEOUT_S),
            ) as response:
                await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            LOG.debug("could not end query %s at the perception service: %s", self.query_id, error)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if len(self._handlers) >= MAX_CONNECTIONS:
            await _refuse(
                writer, 429, "INVALID_QUERY", f"at most {MAX_CONNECTIONS} perception calls at once per query"
            )
            writer.close()
            return
        self._handlers.add(task)
        self._writers.add(writer)
        try:
            await self._relay(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the kernel went away; nothing to answer
        except asyncio.CancelledError:
            # close() cut this connection: end as a finished task (asyncio's connection callback on
            # Python 3.11 logs a cancelled handler as an error).
            pass
        finally:
            self._handlers.discard(task)
            self._writers.discard(writer)
            writer.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            await _refuse(writer, 431, "INVALID_QUERY", f"request head over {MAX_HEAD_BYTES} bytes")
            return
        request = parse_head(head)
        refusal = self._refusal(request)
        if refusal is not None:
            await _refuse(writer, *refusal)
            return
        method, target, headers = request
        length = int(headers.get("content-length", "0"))
        forwarded = {"Content-Type": CONTENT_TYPE, **self._upstream.headers(self.query_id)}
        if KEY_HEADER.lower() in headers:
            forwarded[KEY_HEADER] = headers[KEY_HEADER.lower()]
        if method == "POST":
            forwarded["Content-Length"] = str(length)
        assert self._session is not None
        try:
            async with (
                self._forwarding if method == "POST" else contextlib.nullcontext(),
                self._session.request(
                    method,
                    self._upstream.base_url + target,
                    data=_body(reader, length) if length else None,
                    headers=forwarded,
                ) as response,
            ):
                await _relay_reply(response, writer)
        except asyncio.TimeoutError:
            await _refuse(writer, 504, "TIMEOUT", "the perception service did not reply in time")
        except (aiohttp.ClientError, OSError) as error:
            await _refuse(
                writer,
                503,
                "PERCEPTION_UNAVAILABLE",
                f"perception service unreachable ({type(error).__name__})",
            )

    def _refusal(self, request: tuple[str, str, dict[str, str]] | None) -> tuple[int, str, str] | None:
        """Why the request may not pass (status, code, message), or None."""
        if request is None:
            return 400, "INVALID_QUERY", "malformed HTTP request"
        method, target, headers = request
        if (method, target) != ("GET", "/health") and not (method == "POST" and _OPERATION.fullmatch(target)):
            return 404, "INVALID_QUERY", f"no such perception endpoint: {method} {target[:80]}"
        if "transfer-encoding" in headers:
            return 411, "INVALID_QUERY", "send a Content-Length, not a chunked body"
        key = headers.get(KEY_HEADER.lower())
        if key is not None and not _CONTENT_KEY.fullmatch(key):
            return 400, "INVALID_QUERY", f"{KEY_HEADER} must be 64 hex digits"
        length_text = headers.get("content-length", "0" if method == "GET" else "")
        if not length_text.isdigit():
            return 411, "INVALID_QUERY", "a perception call needs a Content-Length"
        limit = self._upstream.max_request_bytes
        if int(length_text) > limit:
            return 413, "INVALID_QUERY", f"request of {int(length_text)} bytes exceeds {limit} bytes"
        if method == "GET" and int(length_text):
            return 400, "INVALID_QUERY", "GET /health takes no body"
        return None


async def _body(reader: asyncio.StreamReader, length: int) -> AsyncIterator[bytes]:
    """The request body, ``length`` bytes, in chunks of at most ``CHUNK_BYTES``."""
    remaining = length
    while remaining:
        chunk = await reader.read(min(CHUNK_BYTES, remaining))
        if not chunk:
            raise ConnectionError("the kernel closed the connection mid-body")
        remaining -= len(chunk)
        yield chunk


async def _relay_reply(response: aiohttp.ClientResponse, writer: asyncio.StreamWriter) -> None:
    """Send the service's status, content type and body to the kernel, chunk by chunk."""
    lines = [
        status_line(response.status),
        f"Content-Type: {response.headers.get('Content-Type', CONTENT_TYPE)}",
        "Connection: close",
    ]
    if "Content-Length" in response.headers:
        lines.append(f"Content-Length: {response.headers['Content-Length']}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    async for chunk in response.content.iter_chunked(CHUNK_BYTES):
        writer.write(chunk)
        await writer.drain()
    await writer.drain()


async def _refuse(writer: asyncio.StreamWriter, status: int, code: str, message: str) -> None:
    """Answer with the service's JSON error shape."""
    await write_json(writer, status, {"code": code, "message": message})
