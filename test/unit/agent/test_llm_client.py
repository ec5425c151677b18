import asyncio
import time

import pytest

from spatialclaw_ros.agent._llm import (
    SERVER_TEXT_MAX_CHARS,
    ContextOverflowError,
    DeadlineError,
    LLMClient,
    ModelUnavailableError,
    RequestRejectedError,
)
from spatialclaw_ros.agent._settings import LLMSettings, RoleSettings

from support.scripted_vlm import ScriptedVLM, free_port

MESSAGES = [b'{"role": "user", "content": "hi"}']


async def _chat(server_url, replies_settings=None, deadline=None, estimate=10, **settings):
    client = LLMClient(LLMSettings(base_url=server_url, model="scripted-vlm", backoff_s=0.01, **settings))
    try:
        return await client.chat("step", MESSAGES, estimate, deadline)
    finally:
        await client.close()


async def test_retries_5xx_then_succeeds():
    with ScriptedVLM([{"status": 500}, {"status": 503}, {"content": "ok"}]) as server:
        result = await _chat(server.base_url, retries=3)
    assert result.text == "ok" and result.attempts == 3


async def test_retries_429():
    with ScriptedVLM([{"status": 429}, {"content": "ok"}]) as server:
        assert (await _chat(server.base_url)).attempts == 2


async def test_gives_up_after_retries():
    with ScriptedVLM([{"status": 500, "repeat": True}]) as server:
        with pytest.raises(ModelUnavailableError, match="3 attempt"):
            await _chat(server.base_url, retries=2)
        assert len(server.requests) == 3


async def test_server_down_is_model_unavailable():
    with pytest.raises(ModelUnavailableError):
        await _chat(f"http://127.0.0.1:{free_port()}/v1", retries=1)


async def test_bad_request_is_not_retried():
    with ScriptedVLM([{"status": 401, "message": "bad key", "repeat": True}]) as server:
        with pytest.raises(ModelUnavailableError, match="refused"):
            await _chat(server.base_url)
        assert len(server.requests) == 1


BAD_PART = {"message": "messages: bad part"}
NO_MODEL = {"message": "The model `m` does not exist."}


@pytest.mark.parametrize(
    ("entry", "error", "message"),
    [
        ({"status": 400, "error": BAD_PART}, RequestRejectedError, "messages: bad part"),
        ({"status": 413, "text": "request entity too large"}, RequestRejectedError, "entity too large"),
        ({"status": 422, "error": {"message": "unknown field 'foo'"}}, RequestRejectedError, "unknown field"),
        ({"status": 404, "error": NO_MODEL}, ModelUnavailableError, "`m`"),
        ({"status": 400, "message": "model 'm' not found, try pulling it"}, ModelUnavailableError, "pulling"),
    ],
)
async def test_a_refusal_is_typed_not_retried_and_keeps_the_servers_words(entry, error, message):
    with ScriptedVLM([{**entry, "repeat": True}]) as server:
        with pytest.raises(error, match=f"HTTP {entry['status']}: .*{message}"):
            await _chat(server.base_url, retries=2)
        assert len(server.requests) == 1


async def test_a_plain_text_500_reaches_the_message_after_the_retries():
    text = 'TypeError: can only concatenate str (not "list") to str'
    with (
        ScriptedVLM([{"status": 500, "text": text, "repeat": True}]) as server,
        pytest.raises(ModelUnavailableError) as caught,
    ):
        await _chat(server.base_url, retries=1)
    assert "2 attempt(s): HTTP 500: " + text in str(caught.value)


async def test_a_long_server_message_is_trimmed():
    with (
        ScriptedVLM([{"status": 400, "message": "x" * 5000}]) as server,
        pytest.raises(RequestRejectedError) as caught,
    ):
        await _chat(server.base_url)
    assert "x" * SERVER_TEXT_MAX_CHARS + "… (4600 more characters)" in str(caught.value)
    assert len(str(caught.value)) < SERVER_TEXT_MAX_CHARS + 100


async def test_slow_server_stops_at_the_deadline():
    with ScriptedVLM([{"content": "late", "delay_s": 5, "repeat": True}]) as server:
        started = time.monotonic()
        with pytest.raises(DeadlineError):
            await _chat(server.base_url, deadline=time.monotonic() + 0.5)
        assert time.monotonic() - started < 1.5


async def test_max_tokens_clamped_to_the_context():
    with ScriptedVLM([{"content": "ok"}]) as server:
        await _chat(server.base_url, estimate=1500, context_tokens=2048, step=RoleSettings(max_tokens=2000))
        assert server.requests[0].body["max_tokens"] == 548


async def test_prompt_that_leaves_no_room_is_a_context_overflow():
    with pytest.raises(ContextOverflowError):
        await _chat("http://127.0.0.1:9/v1", estimate=2000, context_tokens=2048)


async def test_server_context_error_reports_its_token_count():
    with ScriptedVLM([{"content": "never"}], context_tokens=1024) as server:
        with pytest.raises(ContextOverflowError) as caught:
            await _chat(server.base_url, estimate=10, context_tokens=4096, step=RoleSettings(max_tokens=2000))
        assert caught.value.prompt_tokens == server.overflows[0].prompt_tokens


async def test_api_key_comes_from_the_named_variable(monkeypatch):
    monkeypatch.setenv("SCRIPTED_KEY_FOR_TEST", "sk-test-123")
    with ScriptedVLM([{"content": "ok"}]) as server:
        await _chat(server.base_url, api_key_env="SCRIPTED_KEY_FOR_TEST")
        assert server.requests[0].authorization == "Bearer sk-test-123"


async def test_health_resolves_an_empty_model_name():
    with ScriptedVLM([]) as server:
        client = LLMClient(LLMSettings(base_url=server.base_url, model=""))
        health = await client.health()
        await client.close()
    assert health.ok and client.model == "scripted-vlm" and health.available == ("scripted-vlm",)


async def test_health_reports_a_missing_model_and_a_dead_endpoint():
    with ScriptedVLM([]) as server:
        client = LLMClient(LLMSettings(base_url=server.base_url, model="other"))
        assert not (await client.health()).ok
        await client.close()
    dead = LLMClient(LLMSettings(base_url=f"http://127.0.0.1:{free_port()}/v1"))
    health = await dead.health(timeout_s=2.0)
    await dead.close()
    assert not health.ok and "did not answer" in health.message


def test_tokens_from_usage():
    async def run():
        with ScriptedVLM([{"content": "abcdefgh"}]) as server:
            result = await _chat(server.base_url)
            return result, server.requests[0].prompt_tokens

    result, prompt_tokens = asyncio.run(run())
    assert result.prompt_tokens == prompt_tokens and result.completion_tokens == 2 and result.usage_reported


async def test_the_request_carries_the_messages_as_sent():
    messages = [b'{"role": "system", "content": "s"}', '{"role": "user", "content": "é ✓"}'.encode()]
    with ScriptedVLM([{"content": "ok"}]) as server:
        client = LLMClient(LLMSettings(base_url=server.base_url, model="scripted-vlm"))
        await client.chat("plan", messages, 10)
        await client.close()
    body = server.requests[0].body
    assert body["messages"] == [{"role": "system", "content": "s"}, {"role": "user", "content": "é ✓"}]
    assert body["model"] == "scripted-vlm" and body["temperature"] == 0.2 and body["max_tokens"] == 1024


def _raw_server(status: int, body: bytes):
    """A one-route HTTP server on 127.0.0.1 answering every POST with ``status`` and ``body``."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            return

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


@pytest.mark.parametrize(
    ("status", "body", "error", "match"),
    [
        (400, b'{"error": {"message": "maximum context length is 4096"}}', ContextOverflowError, "4096"),
        (403, b'{"error": {"message": "no access to this model"}}', ModelUnavailableError, "no access"),
        (200, b"<html>not json</html>", ModelUnavailableError, "not JSON"),
        (200, b'{"object": "chat.completion"}', ModelUnavailableError, "not a chat completion"),
    ],
)
async def test_error_replies_are_typed(status, body, error, match):
    server = _raw_server(status, body)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        with pytest.raises(error, match=match):
            await _chat(url, retries=0)
    finally:
        server.shutdown()
        server.server_close()


def test_the_environment_proxy_is_resolved_once_per_client(monkeypatch):
    from spatialclaw_ros.agent._llm import _environment_proxy

    for name in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert _environment_proxy("http://vlm.lan:8000/v1") is None
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.lan:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    assert _environment_proxy("http://vlm.lan:8000/v1") == "http://proxy.lan:3128"
    assert _environment_proxy("http://127.0.0.1:8000/v1") is None
    assert _environment_proxy("https://vlm.lan/v1") is None
