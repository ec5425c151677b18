"""The perception API as a Ray Serve application: replicas across GPUs and nodes, requests batched.

Each replica holds one :class:`PerceptionEngine` (models loaded once per replica) and its own cache
(a probe reaches one replica, so hits are per replica). Requests that arrive together are gathered by
``serve.batch`` and computed back to back in one replica call; the HTTP API is the same as the
single-process service, so ``PerceptionClient(url=...)`` and the kernel's ``tools.*`` use either unchanged.

Deploy (Ray must be installed: ``pip install "ray[serve]"``)::

    from ray import serve
    serve.start(http_options={"host": "127.0.0.1", "port": 8800})
    serve.run(build_ray_app(settings, num_replicas=2), name="perception", route_prefix="/")
"""

# No ``from __future__ import annotations`` here: FastAPI must resolve the route annotations
# (``Request``, imported inside build_ray_app) at definition time.
import asyncio
from typing import Any

from spatialclaw_ros.perception._app import authorised, cached_or_body, error_response
from spatialclaw_ros.perception._engine import PerceptionEngine
from spatialclaw_ros.perception._settings import PerceptionSettings
from spatialclaw_ros.protocol.perception import CONTENT_TYPE, PerceptionError


def build_ray_app(
    settings: PerceptionSettings,
    num_replicas: int = 1,
    max_batch_size: int = 8,
    batch_wait_timeout_s: float = 0.005,
    token: str | None = None,
    ray_actor_options: dict[str, Any] | None = None,
) -> Any:
    """A bound Ray Serve application serving ``settings``' backends with ``num_replicas`` replicas.

    ``ray_actor_options`` sets each replica's resources, e.g. ``{"num_gpus": 1}`` for one GPU each.
    """
    from fastapi import FastAPI, Request
    from fastapi.responses import Response
    from ray import serve

    api = FastAPI(title="spatialclaw perception (Ray Serve)", docs_url=None, redoc_url=None, openapi_url=None)
    max_bytes = settings.max_request_mb * 1024 * 1024
    timeout_s = settings.call_timeout_s

    @serve.deployment(
        num_replicas=num_replicas,
        ray_actor_options=ray_actor_options or {"num_cpus": 1},
        max_ongoing_requests=4 * max_batch_size,
    )
    @serve.ingress(api)
    class PerceptionReplica:
        def __init__(self, settings_json: str) -> None:
            self._engine = PerceptionEngine(PerceptionSettings.from_json(settings_json))
            self._engine.load()

        @api.get("/health")
        async def health(self, request: Request) -> Any:
            if not authorised(request, token):
                return error_response("UNAUTHORIZED", "missing or wrong bearer token")
            return self._engine.health()

        @api.post("/v1/{operation}")
        async def call(self, operation: str, request: Request) -> Any:
            if not authorised(request, token):
                return error_response("UNAUTHORIZED", "missing or wrong bearer token")
            try:
                body = await cached_or_body(request, self._engine, max_bytes)
                if isinstance(body, Response):
                    return body
                ok, payload, message = await asyncio.wait_for(self._batched(operation, body), timeout_s)
            except asyncio.TimeoutError:
                return error_response("TIMEOUT", f"{operation} ran past {timeout_s:.1f} s")
            except PerceptionError as error:
                return error_response(error.code, error.message)
            if not ok:
                return error_response(payload.decode(), message)
            return Response(payload, media_type=CONTENT_TYPE)

        @serve.batch(max_batch_size=max_batch_size, batch_wait_timeout_s=batch_wait_timeout_s)
        async def _batched(self, operations: list[str], bodies: list[bytes]) -> list[tuple[bool, bytes, str]]:
            return await asyncio.to_thread(self._run_batch, operations, bodies)

        def _run_batch(self, operations: list[str], bodies: list[bytes]) -> list[tuple[bool, bytes, str]]:
            results = []
            for operation, body in zip(operations, bodies, strict=True):
                try:
                    results.append((True, self._engine.run(operation, body), ""))
                except PerceptionError as error:
                    results.append((False, error.code.encode(), error.message))
            return results

    return PerceptionReplica.bind(settings.to_json())
