"""The perception HTTP API (FastAPI): ``GET /health`` and ``POST /v1/{operation}`` with ``.npz`` bodies.

A POST with an empty body and an ``X-Content-Key`` header asks for a cached reply only: 200 with it,
or 404 ``CACHE_MISS``, answered on the event loop without waiting behind running calls. Errors are
JSON ``{"code", "message"}`` with an HTTP status that matches the code. Request bodies are limited in
size while they stream in; each call computes in a worker thread under a timeout (the computation
cannot be interrupted: the caller gets TIMEOUT and the finished result is cached for a retry).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hmac
import threading
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from spatialclaw_ros.perception._engine import PerceptionEngine
from spatialclaw_ros.protocol.perception import CONTENT_TYPE, KEY_HEADER, PerceptionError

STATUS_OF_CODE = {
    "INVALID_QUERY": 400,
    "UNAUTHORIZED": 401,
    "CACHE_MISS": 404,
    "TOO_LARGE": 413,
    "PERCEPTION_FAILED": 500,
    "PERCEPTION_UNAVAILABLE": 503,
    "TIMEOUT": 504,
}


def error_response(code: str, message: str) -> JSONResponse:
    """The JSON error reply for ``code``."""
    return JSONResponse({"code": code, "message": message}, status_code=STATUS_OF_CODE.get(code, 500))


async def read_limited(request: Request, max_bytes: int) -> bytes:
    """The request body, refused with TOO_LARGE (as PerceptionError) once it passes ``max_bytes``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PerceptionError("TOO_LARGE", f"request of {int(declared)} bytes exceeds {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PerceptionError("TOO_LARGE", f"request exceeds {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def cached_or_body(request: Request, engine: PerceptionEngine, max_bytes: int) -> Response | bytes:
    """The reply to a cache probe (empty body + content key), else the request body to compute."""
    key = request.headers.get(KEY_HEADER)
    body = await read_limited(request, max_bytes)
    if key is None or body:
        return body
    hit = engine.cached(key)
    if hit is None:
        return error_response("CACHE_MISS", "not cached; send the request")
    return Response(hit, media_type=CONTENT_TYPE)


def authorised(request: Request, token: str | None) -> bool:
    """True without a token, else when the request carries ``Authorization: Bearer <token>``."""
    if not token:
        return True
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def build_app(engine: PerceptionEngine, token: str | None = None, load_in_background: bool = True) -> FastAPI:
    """The FastAPI app serving ``engine``; its backends load in a thread at startup."""
    settings = engine.settings
    max_bytes = settings.max_request_mb * 1024 * 1024
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="perception")

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if load_in_background:
            threading.Thread(target=engine.load, name="perception-load", daemon=True).start()
        yield
        executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="spatialclaw perception", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )

    @app.middleware("http")
    async def _auth(request: Request, call_next: Any) -> Response:
        if not authorised(request, token):
            return error_response("UNAUTHORIZED", "missing or wrong bearer token")
        return await call_next(request)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return engine.health()

    @app.post("/v1/{operation}")
    async def call(operation: str, request: Request) -> Response:
        try:
            body = await cached_or_body(request, engine, max_bytes)
            if isinstance(body, Response):
                return body
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(executor, engine.run, operation, body)
            reply = await asyncio.wait_for(asyncio.shield(future), settings.call_timeout_s)
        except asyncio.TimeoutError:
            return error_response("TIMEOUT", f"{operation} ran past {settings.call_timeout_s:.1f} s")
        except PerceptionError as error:
            return error_response(error.code, error.message)
        return Response(reply, media_type=CONTENT_TYPE)

    return app
