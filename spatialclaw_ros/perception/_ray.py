"""The perception API as a Ray Serve application: replicas across GPUs and nodes, requests batched.

Each replica holds one :class:`PerceptionEngine` (models loaded once per replica), its own cache and
its own :class:`~._app.RequestPath`, so a replica applies the same bounds as the single-process
service: decoding within bounds, the ``X-Spatialclaw-Query`` identity, a probe that hits only
content the same query sent to that replica, a full request answered from another query's entry no
sooner than its computation took, JSON errors. Requests that arrive together are gathered by
``serve.batch`` and handed to the replica's scheduler, which computes them one at a time,
round-robin between queries, at most ``max_queued_per_query`` waiting per query.

Fairness across replicas is Ray's own: its router spreads requests over replicas and queues them
there (``max_ongoing_requests`` per replica); nothing balances one query against another across
replicas. ``DELETE /v1/queries/{id}`` reaches one replica only (Ray routes it like any request): that
replica drops the query's work and forgets its content keys; the others finish what they hold for it
and keep its keys until their bounds push them out (no other query can probe them either way).

Deploy (Ray must be installed: ``pip install "ray[serve]"``)::

    from ray import serve
    serve.start(http_options={"host": "127.0.0.1", "port": 8800})
    serve.run(build_ray_app(settings, num_replicas=2), name="perception", route_prefix="/")
"""

# No ``from __future__ import annotations`` here: FastAPI must resolve the route annotations
# (``Request``, imported inside build_ray_app) at definition time.
import asyncio
from typing import Any

from spatialclaw_ros.perception._app import (
    RequestPath,
    authorised,
    error_response,
    install_error_handlers,
)
from spatialclaw_ros.perception._engine import PerceptionEngine, Reply
from spatialclaw_ros.perception._settings import PerceptionSettings
from spatialclaw_ros.protocol.perception import PerceptionError


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
    from ray import serve

    api = FastAPI(title="spatialclaw perception (Ray Serve)", docs_url=None, redoc_url=None, openapi_url=None)
    install_error_handlers(api)
    refused = "missing or wrong bearer token"

    @serve.deployment(
        num_replicas=num_replicas,
        ray_actor_options=ray_actor_options or {"num_cpus": 1},
        max_ongoing_requests=4 * max_batch_size,
    )
    @serve.ingress(api)
    class PerceptionReplica:
        def __init__(self, settings_json: str) -> None:
            engine = PerceptionEngine(PerceptionSettings.from_json(settings_json))
            engine.load()
            self._path = RequestPath(engine, compute=self._compute)

        @api.get("/health")
        async def health(self, request: Request) -> Any:
            if not authorised(request, token):
                return error_response("UNAUTHORIZED", refused)
            return self._path.health()

        @api.post("/v1/{operation}")
        async def call(self, operation: str, request: Request) -> Any:
            if not authorised(request, token):
                return error_response("UNAUTHORIZED", refused)
            return await self._path.call(operation, request)

        @api.delete("/v1/queries/{query_id}")
        async def end(self, query_id: str, request: Request) -> Any:
            if not authorised(request, token):
                return error_response("UNAUTHORIZED", refused)
            return await self._path.end(query_id, request)

        async def _compute(self, operation: str, body: bytes | bytearray, identity: str) -> Reply:
            reply, code, message = await self._batched(operation, body, identity)
            if reply is None:
                raise PerceptionError(code, message)
            return reply

        @serve.batch(max_batch_size=max_batch_size, batch_wait_timeout_s=batch_wait_timeout_s)
        async def _batched(
            self, operations: list[str], bodies: list[bytes], identities: list[str]
        ) -> list[tuple[Reply | None, str, str]]:
            outcomes = await asyncio.gather(
                *(
                    self._path.compute(operation, body, identity)
                    for operation, body, identity in zip(operations, bodies, identities, strict=True)
                ),
                return_exceptions=True,
            )
            return [_outcome(outcome) for outcome in outcomes]

    return PerceptionReplica.bind(settings.to_json())


def _outcome(outcome: Any) -> tuple[Reply | None, str, str]:
    """A batch item's result as (reply, "", "") or (None, code, message): batches carry values only."""
    if isinstance(outcome, Reply):
        return outcome, "", ""
    if isinstance(outcome, PerceptionError):
        return None, outcome.code, outcome.message
    return None, "PERCEPTION_FAILED", f"{type(outcome).__name__}: {outcome}"
