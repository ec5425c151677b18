"""The perception service's wire: where it listens, its messages, its errors, and its client.

Requests and replies are uncompressed ``.npz`` archives (numpy arrays plus one JSON ``__meta__``
member), never pickle. ``POST /v1/<operation>`` (``segment``, ``track``, ``depth``, ``reconstruct``)
first with only the request's content key in ``X-Content-Key`` (a cached reply comes back without
any pixels sent; else 404 with code ``CACHE_MISS``), then with the archive. Errors are JSON
``{"code": …, "message": …}`` (:data:`ERROR_CODES`). ``GET /health`` lists the backends.
``DELETE /v1/queries/<id>`` ends a query: its queued work is dropped, its running call's result
discarded, and later requests with its id are refused (``CANCELED``).

Every request belongs to the query named in ``X-Spatialclaw-Query`` (set by the node's relay; without
it, to the host, identity ""). The service computes one call at a time, round-robin between queries,
at most ``max_queued_per_query`` waiting per query (``BUSY`` past it); a cache probe hits only content
the same query sent before.

Archives are decoded within bounds before anything is allocated (:func:`decode_message`): members
stored uncompressed, plain numeric or bool dtypes whose declared shapes match the stored bytes, at
most :data:`MAX_MEMBERS` members, a ``__meta__`` of at most :data:`MAX_META_BYTES` nested at most
:data:`MAX_JSON_DEPTH` deep.

Where the service is, inside a kernel: ``SPATIALCLAW_PERCEPTION_SOCKET`` (default
``/run/spatialclaw/perception.sock``) or ``SPATIALCLAW_PERCEPTION_URL`` with
``SPATIALCLAW_PERCEPTION_TOKEN``. Standard library and numpy only: the kernel imports it.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import math
import re
import struct
import time
import urllib.parse
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from spatialclaw_ros.protocol._unix_http import UnixHTTPConnection

DEFAULT_SOCKET = "/run/spatialclaw/perception.sock"
SOCKET_ENV = "SPATIALCLAW_PERCEPTION_SOCKET"
URL_ENV = "SPATIALCLAW_PERCEPTION_URL"
TOKEN_ENV = "SPATIALCLAW_PERCEPTION_TOKEN"
#: The kernel's perception socket, in its services directory: the node's relay to the service.
RELAY_SOCKET_NAME = "perception.sock"
META_KEY = "__meta__"
CONTENT_TYPE = "application/x-npz"
KEY_HEADER = "X-Content-Key"
#: The query a request belongs to: set by the node's relay only (kernels never reach the service).
QUERY_HEADER = "X-Spatialclaw-Query"
DEFAULT_TIMEOUT_S = 180.0  # above the service's own per-call limit (120 s by default)
RECONNECT_S = 5.0
#: Most members of one archive: a reconstruct request of 256 frames has 4 per frame, and ``__meta__``.
MAX_MEMBERS = 1040
MAX_META_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32
_MAX_DIRECTORY_BYTES = MAX_MEMBERS * 512  # a central directory entry: 46 bytes, a short name, no extras
_END_RECORD = struct.Struct("<4s4H2LH")  # zip's end of central directory, without a comment
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # a member's local header, before its name and extra field
_ZIP64_LOCATOR = b"PK\x06\x07"
_NUMERIC_KINDS = "biufc"  # bool, signed, unsigned, float, complex
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


#: The codes of :class:`PerceptionError`: four of the answer's error names, the model's own failure,
#: and the service's refusals of a request (too large, over the query's queue, wrong token).
ERROR_CODES = (
    "PERCEPTION_UNAVAILABLE",
    "TIMEOUT",
    "INVALID_QUERY",
    "CANCELED",
    "PERCEPTION_FAILED",
    "TOO_LARGE",
    "BUSY",
    "UNAUTHORIZED",
)


class PerceptionError(RuntimeError):
    """A perception call failed; ``code`` says why (an answer error name or ``PERCEPTION_FAILED``).

    Codes: ``PERCEPTION_UNAVAILABLE`` (backend off, weights missing, service down or restarting),
    ``TIMEOUT`` (the call ran past its limit), ``INVALID_QUERY`` (bad input: wrong shapes, empty
    prompt, malformed archive), ``CANCELED`` (the query has ended: its work was dropped),
    ``PERCEPTION_FAILED`` (the model raised), ``TOO_LARGE`` (request or decoded archive over the
    limit), ``BUSY`` (the query already has ``max_queued_per_query`` calls waiting; retry after one
    answers), ``UNAUTHORIZED`` (missing or wrong bearer token, or ending another query).
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


class MessageError(ValueError):
    """A malformed archive; ``code`` is the error code the service answers with."""

    code = "INVALID_QUERY"


class MessageTooLargeError(MessageError):
    """An archive whose arrays, metadata or member count pass a limit."""

    code = "TOO_LARGE"


def decode_message(
    data: bytes | bytearray, max_bytes: int | None = None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Inverse of :func:`encode_message`, bounded before anything is allocated; never unpickles.

    Checked from the zip directory and each ``.npy`` header before any array is read: at most
    :data:`MAX_MEMBERS` members, each stored uncompressed (so no member decodes larger than it is
    sent), a plain numeric or bool dtype whose shape × itemsize is exactly the member's stored data,
    at most ``max_bytes`` bytes of arrays in all (None: no bound but the archive's own size), and a
    ``__meta__`` JSON object of at most :data:`MAX_META_BYTES` bytes nested at most
    :data:`MAX_JSON_DEPTH` deep.

    A ``bytearray`` is decoded in place: the arrays are writable views of it (the service holds a
    request once, not twice); ``bytes`` are copied into arrays of their own.

    Raises:
        MessageTooLargeError: a limit is passed (a ValueError, code ``TOO_LARGE``).
        MessageError: anything else malformed (a ValueError, code ``INVALID_QUERY``).
    """
    _check_directory(data)
    try:
        archive = zipfile.ZipFile(_ReadOnlyView(data))
    except (zipfile.BadZipFile, ValueError, EOFError) as error:
        raise MessageError(f"not an npz message: {error}") from error
    with archive:
        members = _checked_members(archive.infolist())
        total = 0
        arrays: dict[str, np.ndarray] = {}
        for info in members:
            name = info.filename[: -len(".npy")]
            with _opened(archive, info) as member:
                shape, fortran_order, dtype, stored = _array_header(member, info)
                total += stored
                if max_bytes is not None and total > max_bytes:
                    raise MessageTooLargeError(f"the archive's arrays exceed {max_bytes} bytes")
                start = _data_start(data, info) + member.tell()
                arrays[name] = _read_array(data, start, shape, fortran_order, dtype, stored)
    raw_meta = arrays.pop(META_KEY, None)
    if raw_meta is None:
        raise MessageError(f"npz message without {META_KEY}")
    meta = _meta(raw_meta)
    return meta, arrays


class _ReadOnlyView(io.RawIOBase):
    """A seekable, read-only file over bytes or a bytearray, without copying them (``io.BytesIO`` copies)."""

    def __init__(self, data: bytes | bytearray) -> None:
        """Read ``data`` from its start."""
        self._view = memoryview(data).toreadonly()
        self._position = 0

    def readable(self) -> bool:
        """It can be read."""
        return True

    def seekable(self) -> bool:
        """It can seek."""
        return True

    def tell(self) -> int:
        """The position, bytes from the start."""
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move to ``offset`` from the start, the position or the end; the new position."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: len(self._view)}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        """Copy the next bytes into ``buffer``; how many (0 at the end)."""
        chunk = self._view[self._position : self._position + len(buffer)]
        memoryview(buffer).cast("B")[: len(chunk)] = chunk
        self._position += len(chunk)
        return len(chunk)


def _check_directory(data: bytes) -> None:
    """Bound the zip's central directory (entries and bytes) before zipfile parses it.

    numpy writes no archive comment and no zip64 end record for archives of this size, so the end
    record must be the archive's last 22 bytes; zipfile then reads the same record.
    """
    if len(data) < _END_RECORD.size:
        raise MessageError("not an npz message: shorter than a zip end record")
    signature, _, _, entries, total_entries, directory_bytes, _, comment_bytes = _END_RECORD.unpack_from(
        data, len(data) - _END_RECORD.size
    )
    if signature != b"PK\x05\x06" or comment_bytes:
        raise MessageError("not an npz message: no zip end record at its end (or a comment)")
    end = len(data) - _END_RECORD.size
    if end >= 20 and data[end - 20 : end - 16] == _ZIP64_LOCATOR:
        raise MessageError("not an npz message: zip64 directories are not accepted")
    if max(entries, total_entries) > MAX_MEMBERS or directory_bytes > _MAX_DIRECTORY_BYTES:
        raise MessageTooLargeError(
            f"archive of {total_entries} members ({directory_bytes} bytes of directory); "
            f"at most {MAX_MEMBERS} members"
        )


def _checked_members(infos: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    """The members, each an uncompressed, unencrypted ``<name>.npy`` of a unique name."""
    if len(infos) > MAX_MEMBERS:
        raise MessageTooLargeError(f"archive of {len(infos)} members; at most {MAX_MEMBERS}")
    names = set()
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
            raise MessageError(
                f"member {info.filename!r} is compressed; members must be stored uncompressed (np.savez)"
            )
        if info.flag_bits & 0x1:
            raise MessageError(f"member {info.filename!r} is encrypted")
        if not info.filename.endswith(".npy") or info.filename in names:
            raise MessageError(f"member {info.filename!r} is not a uniquely named .npy array")
        names.add(info.filename)
    return infos


def _opened(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Any:
    try:
        return archive.open(info)
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError) as error:
        raise MessageError(f"member {info.filename!r} is unreadable: {error}") from error


def _array_header(member: Any, info: zipfile.ZipInfo) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """Shape, order, dtype and data bytes of a member, checked against the member's stored size."""
    try:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise MessageError(f"member {info.filename!r}: .npy format {version} is not accepted")
    except MessageError:
        raise
    except (ValueError, EOFError, SyntaxError, TypeError) as error:
        raise MessageError(f"member {info.filename!r} has no valid .npy header: {error}") from error
    if dtype.kind not in _NUMERIC_KINDS or dtype.hasobject or dtype.names is not None:
        raise MessageError(f"member {info.filename!r} has dtype {dtype}; only plain numbers and bools")
    if len(shape) > 32 or any(extent < 0 for extent in shape):
        raise MessageError(f"member {info.filename!r} has an impossible shape {shape}")
    stored = info.file_size - member.tell()
    declared = math.prod(shape) * dtype.itemsize
    if declared != stored:
        raise MessageError(
            f"member {info.filename!r} declares {shape} {dtype} ({declared} bytes) but stores {stored} bytes"
        )
    return shape, fortran_order, dtype, stored


def _data_start(data: bytes | bytearray, info: zipfile.ZipInfo) -> int:
    """Where a stored member's data begins in the archive: after its local header, name and extra field."""
    offset = info.header_offset
    if data[offset : offset + 4] != b"PK\x03\x04" or offset + _LOCAL_HEADER.size > len(data):
        raise MessageError(f"member {info.filename!r} has no local header")
    name_bytes, extra_bytes = _LOCAL_HEADER.unpack_from(data, offset)[-2:]
    return offset + _LOCAL_HEADER.size + name_bytes + extra_bytes


def _read_array(
    data: bytes | bytearray,
    start: int,
    shape: tuple[int, ...],
    fortran_order: bool,
    dtype: np.dtype,
    stored: int,
) -> np.ndarray:
    """The array whose ``stored`` bytes begin at ``start``: a view of a bytearray, a copy of bytes."""
    if start + stored > len(data):
        raise MessageError(f"member data truncated: {len(data) - start} of {stored} bytes")
    flat = np.frombuffer(data, dtype=dtype, count=stored // dtype.itemsize, offset=start)
    if not isinstance(data, bytearray):
        flat = flat.copy()
    return flat.reshape(shape[::-1]).transpose() if fortran_order else flat.reshape(shape)


def _meta(raw: np.ndarray) -> dict[str, Any]:
    """The ``__meta__`` member as a JSON object, its size and nesting bounded before parsing."""
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise MessageError(f"{META_KEY} must be 1-d uint8 (UTF-8 JSON), got {raw.dtype} {raw.shape}")
    if raw.size > MAX_META_BYTES:
        raise MessageTooLargeError(f"{META_KEY} of {raw.size} bytes; at most {MAX_META_BYTES}")
    try:
        text = raw.tobytes().decode("utf-8")
        if _json_depth(text) > MAX_JSON_DEPTH:
            raise MessageError(f"{META_KEY} is nested deeper than {MAX_JSON_DEPTH}")
        meta = json.loads(text)
    except MessageError:
        raise
    except (ValueError, RecursionError) as error:
        raise MessageError(f"{META_KEY} is not JSON: {error}") from error
    if not isinstance(meta, dict):
        raise MessageError(f"{META_KEY} must be a JSON object")
    return meta


def _json_depth(text: str) -> int:
    """Deepest nesting of ``[`` and ``{`` outside JSON strings (no recursion, linear time)."""
    depth = deepest = 0
    for char in _JSON_STRING.sub("", text):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


class PerceptionClient:
    """HTTP client of the perception service, over a Unix socket or TCP (bearer token)."""

    def __init__(
        self,
        socket_path: str | None = None,
        url: str | None = None,
        token: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        reconnect_s: float = RECONNECT_S,
        query_id: str | None = None,
    ) -> None:
        """Talk to the service at ``socket_path`` or ``url`` (``http(s)://host:port``), not both.

        ``timeout_s`` is the longest wait for the service's reply (TIMEOUT after it); ``reconnect_s``
        is how long a call waits for a service that refuses connections (restarting) before it raises
        PERCEPTION_UNAVAILABLE. ``query_id`` (host side only: a kernel's calls get theirs from the
        node's relay) is sent as ``X-Spatialclaw-Query``; None: the host's own calls.
        """
        if (socket_path is None) == (url is None):
            raise ValueError("give exactly one of socket_path and url")
        self.socket_path = socket_path
        self.url = url
        self._token = token
        self._timeout_s = timeout_s
        self._reconnect_s = reconnect_s
        self._query_id = query_id
        if url is not None:
            parsed = urllib.parse.urlsplit(url)
            if parsed.scheme not in ("http", "https") or not parsed.hostname:
                raise ValueError(f"url must be http(s)://host:port, got {url!r}")
            self._https = parsed.scheme == "https"
            self._host = parsed.hostname
            self._port = parsed.port or (443 if self._https else 80)
            self._prefix = parsed.path.rstrip("/")

    def __repr__(self) -> str:
        """Name the endpoint."""
        return f"PerceptionClient({self.socket_path or self.url!r})"

    def health(self) -> dict[str, Any]:
        """The service's state: ``{"status": "ok", "backends": {capability: {...}}}``."""
        status, body = self._request("GET", "/health", None, self._timeout_s)
        if status != 200:
            raise _error_from_reply(status, body)
        return json.loads(body.decode("utf-8"))

    def end_query(self, query_id: str) -> int:
        """End ``query_id`` at the service: its waiting and running calls are dropped; returns how many.

        Allowed to the host (a client without ``query_id``) and to that query itself.
        """
        path = f"/v1/queries/{urllib.parse.quote(query_id, safe='')}"
        status, body = self._request("DELETE", path, None, self._timeout_s)
        if status != 200:
            raise _error_from_reply(status, body)
        return int(json.loads(body.decode("utf-8"))["dropped"])

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
        if self._query_id is not None:
            headers[QUERY_HEADER] = self._query_id
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
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=timeout_s)
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
