"""Every failure of the perception app is JSON {"code", "message"}, driven through ASGI (no sockets)."""

import asyncio
import contextlib
import json

import pytest

pytest.importorskip("fastapi", reason="the perception app needs fastapi (requirements/perception.txt)")

from fastapi import FastAPI

from spatialclaw_ros.perception._app import install_error_handlers


def reply(app, method, path):
    """(status, JSON body) of one request sent to ``app`` through its ASGI interface."""
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [],
        "scheme": "http",
        "server": ("localhost", 80),
        "client": ("localhost", 1),
        "root_path": "",
    }

    async def run():
        # Starlette re-raises after sending the 500 reply, for the server to log.
        with contextlib.suppress(RuntimeError):
            await app(scope, receive, send)

    asyncio.run(run())
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return start["status"], json.loads(body)


@pytest.fixture
def app():
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("first line\nsecond line")

    @app.get("/items/{number}")
    async def item(number: int) -> int:
        return number

    return app


def test_an_unexpected_exception_is_a_one_line_json_500(app):
    assert reply(app, "GET", "/boom") == (
        500,
        {"code": "PERCEPTION_FAILED", "message": "RuntimeError: first line"},
    )


def test_unknown_routes_and_methods_keep_their_status(app):
    assert reply(app, "GET", "/nowhere") == (404, {"code": "INVALID_QUERY", "message": "Not Found"})
    assert reply(app, "POST", "/boom")[0] == 405


def test_invalid_parameters_are_invalid_queries(app):
    status, body = reply(app, "GET", "/items/seven")
    assert status == 400 and body["code"] == "INVALID_QUERY"
