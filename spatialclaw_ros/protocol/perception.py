"""The perception service's wire: where it listens, its messages, its errors, and its client.

Requests and replies are uncompressed ``.npz`` archives (numpy arrays plus one JSON ``__meta__``
member), never pickle. ``POST /v1/<operation>`` (``segment``, ``track``, ``depth``, ``reconstruct``)
first with only the request's content key in ``X-Content-Key`` (a cached reply comes back without
any pixels sent; else 404 with code ``CACHE_MISS``), then with the archive. Errors are JSON
``{"code": …, "message": …}``; the codes are the answer's error names (``PERCEPTION_UNAVAILABLE``,
``TIMEOUT``, ``INVALID_QUERY``) or ``PERCEPTION_FAILED``. ``GET /health`` lists the backends.

Where the service is, inside a kernel: ``SPATIALCLAW_PERCEPTION_SOCKET`` (default
``/run/spatialclaw/perception.sock``) or ``SPATIALCLAW_PERCEPTION_URL`` with
``SPATIALCLAW_PERCEPTION_TOKEN``. Standard library and numpy only: the kernel imports it.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

import numpy as np

from spatialclaw_ros.protocol._unix_http import UnixHTTPConnection

DEFAULT_SOCKET = "/run/spatialclaw/perception.sock"
SOCKET_ENV = "SPATIALCLAW_PERCEPTION_SOCKET"
URL_ENV = "SPATIALCLAW_PERCEPTION_URL"
TOKEN_ENV = "SPATIALCLAW_PERCEPTION_TOKEN"
META_KEY = "__meta__"
CONTENT_TYPE = "application/x-npz"
KEY_HEADER = "X-Content-Key"
DEFAULT_TIMEOUT_S = 180.0  # above the service's own per-call limit (120 s by default)
RECONNECT_S = 5.0


#: The codes of :class:`PerceptionError`: three of the answer's error names, and the model's own failure.
ERROR_CODES = ("PERCEPTION_UNAVAILABLE", "TIMEOUT", "INVALID_QUERY", "PERCEPTION_FAILED")


class PerceptionError(RuntimeError):
    """A perception call failed; ``code`` says why (an answer error name or ``PERCEPTION_FAILED``).

    Codes: ``PERCEPTION_UNAVAILABLE`` (backend off, weights missing, service down or restarting),
    ``TIMEOUT`` (the call ran past its limit), ``INVALID_QUERY`` (bad input: wrong shapes, empty
    prompt, request too large), ``PERCEPTION_FAILED`` (the model raised).
    """

    def __init__(self, code: str, message: str) -> None:
        """Keep the machine-readable ``code`` beside the human ``message``."""
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @staticmethod
    def code_in(text: str) -> str:
        """The code a PerceptionError's text (``"CODE: message"``) starts with; "" for any other text.

        A kernel's cell error reaches the host as text only (exception name and value).
        """
        code, separator, _ = text.partition(": ")
        return code if separator and code in ERROR_CODES else ""


def content_key(operation: str, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> str:
    """Cache key of a request: SHA-256 of the operation, parameters and arrays (name, dtype, shape, bytes)."""
    digest = hashlib.sha256(operation.encode("utf-8"))
    digest.update(json.dumps(dict(meta), sort_keys=True).encode("utf-8"))
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"\0{name}\0{array.dtype.str}\0{array.shape}\0".encode())
        digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()


def encode_message(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> bytes:
    """Serialise JSON-able ``meta`` and named numpy arrays into one uncompressed ``.npz`` archive."""
    buffer = io.BytesIO()
    members = {name: np.ascontiguousarray(value) for name, value in arrays.items()}
    if META_KEY in members:
        raise ValueError(f"{META_KEY!r} is reserved")
    members[META_KEY] = np.frombuffer(json.dumps(dict(meta)).encode("utf-8"), dtype=np.uint8)
    np.savez(buffer, **members)
    return buffer.getvalue()


def decode_message(data: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Inverse of :func:`encode_message`; never unpickles. Raises ValueError on a malformed archive."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except Exception as error:
        raise ValueError(f"not an npz message: {error}") from error
    raw_meta = arrays.pop(META_KEY, None)
    if raw_meta is None:
        raise ValueError(f"npz message without {META_KEY}")
    meta = json.loads(raw_meta.tobytes().decode("utf-8"))
    if not isinstance(meta, dict):
        raise ValueError(f"{META_KEY} must be a JSON object")
    return meta, arrays


class PerceptionClient:
    """HTTP client of the perception service, over a Unix socket or TCP (bearer token)."""

    def __init__(
        self,
        socket_path: str | None = None,
        url: str | None = None,
        token: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        reconnect_s: float = RECONNECT_S,
    ) -> None:
        """Talk to the service at ``socket_path`` or ``url`` (``http://host:port``), not both.

        ``timeout_s`` is the longest wait for the service's reply (TIMEOUT after it); ``reconnect_s``
        is how long a call waits for a service that refuses connections (restarting) before it raises
        PERCEPTION_UNAVAILABLE.
        """
        if (socket_path is None) == (url is None):
            raise ValueError("give exactly one of socket_path and url")
        self.socket_path = socket_path
        self.url = url
        self._token = token
        self._timeout_s = timeout_s
        self._reconnect_s = reconnect_s
        if url is not None:
            parsed = urllib.parse.urlsplit(url)
            if parsed.scheme != "http" or not parsed.hostname:
                raise ValueError(f"url must be http://host:port, got {url!r}")
            self._host = parsed.hostname
            self._port = parsed.port or 80
            self._prefix = parsed.path.rstrip("/")

    def __repr__(self) -> str:
        """Name the endpoint."""
        return f"PerceptionClient({self.socket_path or self.url!r})"

    def health(self) -> dict[str, Any]:
        """The service's state: ``{"status": "ok", "backends": {capability: {...}}, "cache": {...}}``."""
        status, body = self._request("GET", "/health", None, self._timeout_s)
        if status != 200:
            raise _error_from_reply(status, body)
        return json.loads(body.decode("utf-8"))

    def call(
        self,
        operation: str,
        meta: Mapping[str, Any],
        arrays: Mapping[str, np.ndarray],
        timeout_s: float | None = None,
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Run one operation (``segment``, ``track``, ``depth``, ``reconstruct``); returns the decoded reply.

        The client first offers only the request's content key: a cached reply comes back without any
        pixels being sent. On a miss it sends the request itself.
        """
        timeout_s = timeout_s or self._timeout_s
        path = f"/v1/{operation}"
        status, reply = self._request(
            "POST", path, b"", timeout_s, {KEY_HEADER: content_key(operation, meta, arrays)}
        )
        if status == 404 and _code_of(reply) == "CACHE_MISS":
            status, reply = self._request("POST", path, encode_message(meta, arrays), timeout_s)
        if status != 200:
            raise _error_from_reply(status, reply)
        try:
            return decode_message(reply)
        except ValueError as error:
            raise PerceptionError("PERCEPTION_FAILED", f"malformed reply: {error}") from error

    def _request(
        self,
        method: str,
        path: str,
        body: bytes | None,
        timeout_s: float,
        extra: Mapping[str, str] | None = None,
    ) -> tuple[int, bytes]:
        headers = {"Content-Type": CONTENT_TYPE, **(extra or {})}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        deadline = time.monotonic() + self._reconnect_s
        while True:
            connection = self._connection(timeout_s)
            try:
                connection.connect()
            except (FileNotFoundError, ConnectionRefusedError) as error:
                connection.close()
                if time.monotonic() >= deadline:
                    raise PerceptionError(
                        "PERCEPTION_UNAVAILABLE",
                        f"perception service at {self!r} is not accepting connections ({error})",
                    ) from error
                time.sleep(0.1)
                continue
            try:
                connection.request(method, self._path(path), body=body, headers=headers)
                response = connection.getresponse()
                return response.status, response.read()
            except TimeoutError as error:
                raise PerceptionError("TIMEOUT", f"no reply within {timeout_s:.1f} s") from error
            except (http.client.HTTPException, ConnectionError) as error:
                raise PerceptionError(
                    "PERCEPTION_UNAVAILABLE",
                    f"perception service dropped the call ({type(error).__name__}: {error}); "
                    "it restarts by itself, try again",
                ) from error
            finally:
                connection.close()

    def _connection(self, timeout_s: float) -> http.client.HTTPConnection:
        if self.socket_path is not None:
            return UnixHTTPConnection(self.socket_path, timeout_s)
        return http.client.HTTPConnection(self._host, self._port, timeout=timeout_s)

    def _path(self, path: str) -> str:
        return path if self.socket_path is not None else self._prefix + path


def _code_of(body: bytes) -> str:
    try:
        return str(json.loads(body.decode("utf-8")).get("code", ""))
    except (ValueError, AttributeError):
        return ""


def _error_from_reply(status: int, body: bytes) -> PerceptionError:
    try:
        payload = json.loads(body.decode("utf-8"))
        return PerceptionError(str(payload["code"]), str(payload["message"]))
    except (ValueError, KeyError, TypeError):
        return PerceptionError("PERCEPTION_FAILED", f"HTTP {status}: {body[:200]!r}")
