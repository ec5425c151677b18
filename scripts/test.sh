#!/usr/bin/env bash
# The project's test command: the whole pytest suite inside the project's environment.
#   scripts/test.sh                 everything
#   scripts/test.sh --fast          the fast tier: test/unit, which needs neither ROS nor a kernel process
#   scripts/test.sh --python 3.12 [--fast]
#                                   in .venv-py3.12 (scripts/setup.sh --python 3.12), the ROS-free suites:
#                                   all but test/ros, test/accuracy and test/realserver, without the tests
#                                   that need rclpy; with --fast the fast tier. The main environment's
#                                   version runs in .venv. scripts/env.sh runs in that venv, subprocesses too.
#   scripts/test.sh --distro jazzy [--smoke]
#                                   the ROS suite (or its smoke tests) in the environment of
#                                   scripts/setup.sh --distro jazzy (scripts/test_distro.sh)
# Extra arguments go to pytest (e.g. scripts/test.sh test/agent -q, scripts/test.sh --ignore=test/unit).
# Exits non-zero on any failure, and also when no test ran at all.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# The real-server lane has its own command (scripts/test_realserver.sh).
ROS_FREE_SUITES=(test --ignore=test/ros --ignore=test/accuracy --ignore=test/realserver)

if [ "${1:-}" = "--distro" ]; then
  [ $# -ge 2 ] || { echo "usage: scripts/test.sh --distro DISTRO [--smoke] [PYTEST ARGS]" >&2; exit 2; }
  exec bash "$ROOT/scripts/test_distro.sh" "${@:2}"
fi

ros_free=0
if [ "${1:-}" = "--python" ]; then
  version="${2:-}"
  shift 2 || { echo "usage: scripts/test.sh --python X.Y [--fast] [PYTEST ARGS]" >&2; exit 2; }
  if [ ! -x "$ROOT/.venv/bin/python$version" ]; then
    export SPATIALCLAW_PYTHON_VERSION="$version"
  fi
  ros_free=1
fi

args=("$@")
if [ "${1:-}" = "--fast" ]; then
  args=(test/unit -m "not ros and not sandbox and not slow" "${@:2}")
elif [ $ros_free = 1 ]; then
  echo "test.sh: ROS-free suites; deselected: the tests marked ros (they need rclpy)"
  args=("${ROS_FREE_SUITES[@]}" -m "not ros" "$@")
fi
"$ROOT/scripts/env.sh" pytest "${args[@]}"
status=$?
if [ $status -eq 5 ]; then
  echo "test.sh: pytest collected no tests" >&2
  exit 1
fi
exit $status
