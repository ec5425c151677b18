#!/usr/bin/env bash
# Builds llama-cpp-python from source ONCE into a wheel cached outside the repository, for the real-server
# test lane (scripts/test_realserver.sh). 8 to 12 minutes on 2 cores; while the wheel is cached, a run
# does nothing. CPU only, without the multimodal (mtmd) library: the lane serves a text model.
#
# Usage: scripts/build_llama_wheel.sh           build (or find) the wheel; prints its path last
#        scripts/build_llama_wheel.sh --print   print the cached wheel's path; exit 1 when there is none
# Env:   SPATIALCLAW_WHEEL_DIR                   the cache (default: ~/.cache/spatialclaw/wheels)
#        PYTHON                                  the interpreter that builds it (default: python3)
set -euo pipefail

VERSION="0.3.36"
WHEEL_DIR="${SPATIALCLAW_WHEEL_DIR:-$HOME/.cache/spatialclaw/wheels}"
PYTHON="${PYTHON:-python3}"

cached_wheel() {
  # The build is pure ctypes (py3-none): one wheel serves every Python version.
  compgen -G "$WHEEL_DIR/llama_cpp_python-$VERSION-py3-none-*.whl" | head -n 1
}

if [ "${1:-}" = --print ]; then
  cached_wheel || exit 1
  exit 0
elif [ $# -ne 0 ]; then
  echo "usage: scripts/build_llama_wheel.sh [--print]" >&2
  exit 2
fi

if wheel="$(cached_wheel)"; then
  echo "build_llama_wheel.sh: cached already"
  echo "$wheel"
  exit 0
fi

mkdir -p "$WHEEL_DIR"
started=$SECONDS
echo "build_llama_wheel.sh: building llama-cpp-python $VERSION from source into $WHEEL_DIR (~8 min on 2 cores)"
# GGML_NATIVE: tuned to this machine's CPU, as the cache is this machine's own.
CMAKE_ARGS="-DLLAVA_BUILD=OFF -DGGML_NATIVE=ON -DGGML_CUDA=OFF" \
  CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
  "$PYTHON" -m pip wheel --no-deps --no-binary llama-cpp-python --wheel-dir "$WHEEL_DIR" \
  "llama-cpp-python==$VERSION"
wheel="$(cached_wheel)" || { echo "build_llama_wheel.sh: pip made no py3-none wheel in $WHEEL_DIR" >&2; exit 1; }
echo "build_llama_wheel.sh: built in $((SECONDS - started)) s"
echo "$wheel"
