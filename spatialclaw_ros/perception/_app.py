"""The perception HTTP API (FastAPI): ``GET /health``, ``POST /v1/{op}``, ``DELETE /v1/queries/{id}``.

Each request belongs to the query named in ``X-Spatialclaw-Query`` (the node's relay sets it; without
it the request is the host's, identity ""). A POST with an empty body and an ``X-Content-Key`` header
asks for a cached reply only: 200 with it when the same query sent that content before, else 404
``CACHE_MISS``, answered on the event loop without waiting behind running calls. Other POSTs are
bounded while they stream in (``max_request_mb``), then decoded (within bounds, see
``protocol.perception.decode_message``) and computed on the scheduler's worker thread, round-robin
between queries (:mod:`._scheduler`), under a timeout (the computation cannot be interrupted: the
caller gets TIMEOUT and the finished result is cached for a retry). ``DELETE /v1/queries/{id}`` (from
that query itself or from the host) drops the query's waiting calls, discards its running one and
refuses its later calls (``CANCELED``).

Every failure is JSON ``{"code", "message"}`` with the status of :data:`STATUS_OF_CODE`: unknown
routes and methods, malformed requests and unexpected exceptions (``PERCEPTION_FAILED``, 500, one
line) included. Request heads are bounded by uvicorn's HTTP parser: with h11 (uvicorn's default when
httptools is absent) a head over ``h11_max_incomplete_event_size`` (16 KiB) gets uvicorn's own
plain-text 400 and the connection is closed, before this app sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from spatialclaw_ros.perception._engine import PerceptionEngine, Reply
from spatialclaw_ros.perception._scheduler import HOST_IDENTITY, FairScheduler
from spatialclaw_ros.protocol.errors import release_frames
from spatialclaw_ros.protocol.perception import CONTENT_TYPE, KEY_HEADER, QUERY_HEADER, PerceptionError

LOG = logging.getLogger("spatialclaw_ros.perception")
STATUS_OF_CODE = {
    "INVALID_QUERY": 400,
    "UNAUTHORIZED": 401,
    "CACHE_MISS": 404,
    "CANCELED": 409,
    "TOO_LARGE": 413,
    "BUSY": 429,
    "PERCEPTION_FAILED": 500,
    "PERCEPTION_UNAVAILABLE": 503,
    "TIMEOUT": 504,
}
MAX_MESSAGE_CHARS = 300

#: How a request path computes one call: (operation, body, identity) → the engine's reply.
Compute = Callable[[str, bytes, str], Awaitable[Reply]]


def error_response(code: str, message: str, status: int | None = None) -> JSONResponse:
    """The JSON error reply for ``code`` (its status from :data:`STATUS_OF_CODE` unless ``status``)."""
    return JSONResponse(
        {"code": code, "message": message}, status_code=status or STATUS_OF_CODE.get(code, 500)
    )


def one_line(error: BaseException) -> str:
    """``Type: first line of the message``, at most :data:`MAX_MESSAGE_CHARS` characters."""
    text = f"{type(error).__name__}: {error}".strip()
    return text.splitlines()[0][:MAX_MESSAGE_CHARS] if text else type(error).__name__


async def read_limited(request: Request, max_bytes: int) -> bytearray:
    """The request body, refused with TOO_LARGE (as PerceptionError) once it passes ``max_bytes``.

    A bytearray: the request's arrays are decoded as views of it, so the service holds it once. With a
    ``Content-Length`` it is allocated once, at its size, and filled in place: grown chunk by chunk, a
    large body left the allocator's heap fragmented and the process grew by its size at every request.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit():
        if int(declared) > max_bytes:
            raise PerceptionError("TOO_LARGE", f"request of {int(declared)} bytes exceeds {max_bytes} bytes")
        body, size = bytearray(int(declared)), 0
        async for chunk in request.stream():
            if size + len(chunk) > len(body):
                raise PerceptionError("INVALID_QUERY", f"the body is longer than its {len(body)} bytes")
            body[size : size + len(chunk)] = chunk
            size += len(chunk)
        if size != len(body):
            raise PerceptionError("INVALID_QUERY", f"the body ended after {size} of {len(body)} bytes")
        return body
    grown = bytearray()
    async for chunk in request.stream():
        if len(grown) + len(chunk) > max_bytes:
            raise PerceptionError("TOO_LARGE", f"request exceeds {max_bytes} bytes")
        grown += chunk
    return grown


def authorised(request: Request, token: str | None) -> bool:
    """True without a token, else when the request carries ``Authorization: Bearer <token>``."""
    if not token:
        return True
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def identity_of(request: Request) -> str:
    """The query a request belongs to (its ``X-Spatialclaw-Query``), or the host's identity ""."""
    return request.headers.get(QUERY_HEADER, HOST_IDENTITY)


class RequestPath:
    """What the FastAPI service and each Ray Serve replica do with a request, beyond routing.

    ``compute`` runs one decoded call; by default :meth:`compute` (the scheduler's worker), the Ray
    replica passes its batching wrapper around it.
    """

    def __init__(self, engine: PerceptionEngine, compute: Compute | None = None) -> None:
        """Serve ``engine`` with a fair scheduler of ``engine.settings.max_queued_per_query``."""
        self.engine = engine
        self.scheduler = FairScheduler(engine.settings.max_queued_per_query)
        self._compute = compute or self.compute
        self._max_bytes = engine.settings.max_request_mb * 1024 * 1024
        self._timeout_s = engine.settings.call_timeout_s

    def health(self) -> dict[str, Any]:
        """The backends' states (no cache figures: they would tell one query of another's calls)."""
        return self.engine.health()

    async def compute(self, operation: str, body: bytes | bytearray, identity: str) -> Reply:
        """Queue one call for ``identity`` on the scheduler and wait for its reply (PerceptionError)."""
        future = self.scheduler.submit(identity, lambda job: self.engine.run(operation, body, identity, job))
        return await asyncio.wrap_future(future)

    async def call(self, operation: str, request: Request) -> Response:
        """``POST /v1/{operation}``: a cache probe, or a call computed in turn; errors as JSON."""
        identity = identity_of(request)
        try:
            if self.scheduler.ended(identity):
                raise PerceptionError("CANCELED", f"query {identity!r} has ended")
            body = await read_limited(request, self._max_bytes)
            key = request.headers.get(KEY_HEADER)
            if key is not None and not body:
                hit = self.engine.probe(identity, key)
                if hit is None:
                    return error_response("CACHE_MISS", "not cached; send the request")
                return Response(hit, media_type=CONTENT_TYPE)
            task = asyncio.ensure_future(self._compute(operation, body, identity))
            # A caller that timed out leaves its call running: its outcome is read here, not logged.
            task.add_done_callback(lambda done: done.cancelled() or done.exception())
            reply = await asyncio.wait_for(asyncio.shield(task), self._timeout_s)
        except asyncio.TimeoutError:
            return error_response("TIMEOUT", f"{operation} ran past {self._timeout_s:.1f} s")
        except PerceptionError as error:
            release_frames(error)  # the task holds it: without this, the body waits for the collector
            return error_response(error.code, error.message)
        hold_s = reply.not_before - time.monotonic()
        if hold_s > 0:
            await asyncio.sleep(hold_s)
        return Response(reply.body, media_type=CONTENT_TYPE)

    async def end(self, query_id: str, request: Request) -> Response:
        """``DELETE /v1/queries/{query_id}``: end that query, asked by itself or by the host."""
        asker = identity_of(request)
        if asker not in (HOST_IDENTITY, query_id):
            return error_response("UNAUTHORIZED", "a query can end only itself")
        dropped = self.scheduler.end(query_id)
        self.engine.forget(query_id)
        return JSONResponse({"query_id": query_id, "dropped": dropped})

    def close(self) -> None:
        """Stop the scheduler; waiting calls fail with PERCEPTION_UNAVAILABLE."""
        self.scheduler.close()


def install_error_handlers(app: FastAPI) -> None:
    """Make every failure of ``app`` a JSON ``{"code", "message"}`` reply, never a plain-text 500."""

    @app.exception_handler(HTTPException)
    async def _http(_: Request, error: HTTPException) -> Response:
        return error_response("INVALID_QUERY", str(error.detail), error.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> Response:
        return error_response("INVALID_QUERY", one_line(error))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        LOG.error("%s %s failed", request.method, request.url.path, exc_info=error)
        return error_response("PERCEPTION_FAILED", one_line(error))


def build_app(engine: PerceptionEngine, token: str | None = None, load_in_background: bool = True) -> FastAPI:
    """The FastAPI app serving ``engine``; its backends load in a thread at startup."""
    path = RequestPath(engine)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if load_in_background:
            threading.Thread(target=engine.load, name="perception-load", daemon=True).start()
        yield
        path.close()

    app = FastAPI(
        title="spatialclaw perception", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    install_error_handlers(app)

    @app.middleware("http")
    async def _auth(request: Request, call_next: Any) -> Response:
        if not authorised(request, token):
            return error_response("UNAUTHORIZED", "missing or wrong bearer token")
        return await call_next(request)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return path.health()

    @app.post("/v1/{operation}")
    async def call(operation: str, request: Request) -> Response:
        return await path.call(operation, request)

    @app.delete("/v1/queries/{query_id}")
    async def end(query_id: str, request: Request) -> Response:
        return await path.end(query_id, request)

    return app
