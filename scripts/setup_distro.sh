#!/usr/bin/env bash
# A second ROS 2 distribution beside the main (Kilted) environment of scripts/setup.sh, from that
# distribution's PyPI wheels: .venv-DISTRO with requirements/ros2-DISTRO.txt, the runtime and dev
# requirements and the perception service's web server (FastAPI, uvicorn: the `labels` segmenter of the ROS
# tests runs in it), then `colcon build` of this package into build-DISTRO/ and install-DISTRO/.
# No perception models, so no torch: the ROS suite runs with the `none`, `labels` and `sensor` backends.
# Idempotent like scripts/setup.sh: each step records a hash of its inputs and is skipped while they are
# unchanged. scripts/env_distro.sh DISTRO runs commands in the result, scripts/test_distro.sh DISTRO tests it.
#
# Usage: scripts/setup_distro.sh DISTRO     (jazzy today: another distribution is one more requirements file,
#                                           whose `# python: X.Y` line names the interpreter its wheels need)
set -euo pipefail

[ $# -eq 1 ] && [[ "$1" =~ ^[a-z]+$ ]] || { echo "usage: scripts/setup_distro.sh DISTRO (e.g. jazzy)" >&2; exit 2; }
DISTRO="$1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ROS_REQUIREMENTS="requirements/ros2-$DISTRO.txt"
VENV="$ROOT/.venv-$DISTRO"
STAMPS="$VENV/.setup-stamps"
started=$SECONDS
did_work=0

current_step="start"
trap 'echo "setup_distro.sh $DISTRO: FAILED at step \"$current_step\" (exit $?)" >&2' ERR

step() { current_step="$1"; echo "==> $1"; }

# A stamp holds the hash of a step's inputs; the step runs again only when they change.
inputs_hash() { cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1; }
is_current() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
mark_done() { mkdir -p "$STAMPS"; echo "$2" > "$STAMPS/$1"; did_work=1; }

step "Python for ROS 2 $DISTRO"
[ -f "$ROS_REQUIREMENTS" ] || { echo "setup_distro.sh: no $ROS_REQUIREMENTS" >&2; exit 1; }
# The wheels are built for one or two CPython versions: the requirements file names the one to use.
version="$(sed -n 's/^# python: \(3\.[0-9]*\)$/\1/p' "$ROS_REQUIREMENTS" | head -n 1)"
[ -n "$version" ] || { echo "setup_distro.sh: $ROS_REQUIREMENTS has no '# python: X.Y' line" >&2; exit 1; }
pyenv="$(command -v pyenv || echo "${PYENV_ROOT:-$HOME/.pyenv}/bin/pyenv")"
if [ -x "$pyenv" ] && installed="$("$pyenv" latest "$version" 2>/dev/null)"; then
  base="$("$pyenv" root)/versions/$installed/bin/python$version"
else
  base="$(command -v "python$version")" || { echo "setup_distro.sh: no Python $version (pyenv or PATH)" >&2; exit 1; }
fi
py_tag="cp${version/./}"

step "virtual environment $VENV"
# A new interpreter means a new venv (`--clear` also drops the stamps, so every step below runs again).
if [ "$(readlink -f "$VENV/bin/python")" != "$(readlink -f "$base")" ]; then
  "$base" -m venv --clear "$VENV"
  did_work=1
fi
PY="$VENV/bin/python"

step "pip: ROS 2 $DISTRO wheels, runtime and dev dependencies, the perception service's server"
# Only the server lines of perception.txt: its models (torch first) stay out, and a plain `torch` from PyPI
# would be a multi-GB CUDA build.
mapfile -t service < <(grep -E '^(fastapi|uvicorn)\b' requirements/perception.txt)
h="$(inputs_hash "$ROS_REQUIREMENTS" requirements/runtime.txt requirements/dev.txt requirements/perception.txt setup.py)"
if ! is_current pip "$h"; then
  "$PY" -m pip install -q --upgrade pip
  "$PY" -m pip install -q -r "$ROS_REQUIREMENTS" -r requirements/runtime.txt -r requirements/dev.txt "${service[@]}"
  # The package itself, editable, for its console script `spatialclaw` (dependencies are installed above).
  "$PY" -m pip install -q --no-deps -e "$ROOT"
  if "$PY" -m pip show -q torch >/dev/null 2>&1; then
    echo "setup_distro.sh: torch found in $VENV; nothing here may pull it (PyPI's is a CUDA build)" >&2
    exit 1
  fi
  mark_done pip "$h"
fi

# The wheels' CMake files hard-code the include paths of the manylinux build image of their Python.
step "include-path links the ROS wheels' CMake files expect"
py_include="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
np_include="$("$PY" -c 'import numpy; print(numpy.get_include())')"
image_python="/opt/python/$py_tag-$py_tag"
link_if_needed() { # target link
  if [ "$(readlink -f "$2" 2>/dev/null)" != "$(readlink -f "$1")" ]; then
    [ -w "$(dirname "$(dirname "$2")")" ] || [ "$(id -u)" = 0 ] \
      || { echo "setup_distro.sh: run as root to create $2" >&2; exit 1; }
    mkdir -p "$(dirname "$2")"
    rm -rf "$2"
    ln -s "$1" "$2"
    did_work=1
  fi
}
link_if_needed "$py_include" "$image_python/include/python$version"
link_if_needed "$np_include" "$image_python/lib/python$version/site-packages/numpy/_core/include"

step "sandbox: bubblewrap user and kernel environment (shared with .venv)"
# Kernels run their own interpreter and packages, whatever the node's distribution.
bash scripts/setup_sandbox.sh

step "colcon build into build-$DISTRO/ and install-$DISTRO/"
# Python files are symlinked into the install space, so their contents need no rebuild; new files do.
# The wheels are inputs too: the generated interfaces are compiled against them.
h="$( (find package.xml CMakeLists.txt msg srv action launch config scripts/spatial_agent scripts/sim_camera_publisher \
        "$ROS_REQUIREMENTS" -type f -print0 | sort -z | xargs -0 cat; find spatialclaw_ros -type f ! -path '*/__pycache__/*' | sort) \
      | sha256sum | cut -d' ' -f1)"
if ! is_current colcon "$h" || [ ! -f "$ROOT/install-$DISTRO/setup.bash" ]; then
  (
    # Nothing of a sourced Kilted environment may leak into this build.
    unset AMENT_PREFIX_PATH COLCON_PREFIX_PATH CMAKE_PREFIX_PATH PYTHONPATH
    # shellcheck disable=SC1091
    source "$VENV/bin/activate"
    export AMENT_PREFIX_PATH="$VENV"
    colcon --log-base "$ROOT/log/$DISTRO" build --base-paths "$ROOT" \
      --build-base "$ROOT/build-$DISTRO" --install-base "$ROOT/install-$DISTRO" \
      --symlink-install --event-handlers console_cohesion- summary+ \
      --cmake-args -DPython3_EXECUTABLE="$PY" -DBUILD_TESTING=OFF \
      -DPython3_NumPy_INCLUDE_DIR="$image_python/lib/python$version/site-packages/numpy/_core/include"
  )
  mark_done colcon "$h"
fi

step "check the environment"
bash "$ROOT/scripts/env_distro.sh" "$DISTRO" python -c '
import sys
import rclpy
import spatialclaw_ros.action, spatialclaw_ros.msg, spatialclaw_ros.srv
print(f"Python {sys.version.split()[0]}, rclpy from {rclpy.__file__}")'

if [ $did_work = 0 ]; then
  echo "setup_distro.sh: $DISTRO environment already up to date ($((SECONDS - started)) s)"
else
  echo "setup_distro.sh: $DISTRO environment ready ($((SECONDS - started)) s)"
fi
