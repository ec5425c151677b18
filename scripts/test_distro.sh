#!/usr/bin/env bash
# The ROS suite (test/ros; not the accuracy survey) in the environment of `scripts/setup_distro.sh DISTRO`.
#   scripts/test_distro.sh DISTRO [PYTEST ARGS]           all of test/ros
#   scripts/test_distro.sh DISTRO --smoke [PYTEST ARGS]   only the tests marked `smoke`: the node starts and
#                                                         goes through its transitions, a code query, the
#                                                         action with a cancel
# Paths among the pytest arguments (e.g. test/ros/test_lifecycle.py) replace test/ros.
# Exits non-zero on any failure, and also when no test ran at all.
set -euo pipefail
[ $# -ge 1 ] && [[ "$1" =~ ^[a-z]+$ ]] || { echo "usage: scripts/test_distro.sh DISTRO [--smoke] [PYTEST ARGS]" >&2; exit 2; }
DISTRO="$1"
shift
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

selection=()
if [ "${1:-}" = "--smoke" ]; then
  selection=(-m smoke)
  shift
fi
paths=(test/ros)
for arg in "$@"; do
  if [ -e "${arg%%::*}" ]; then
    paths=()
    break
  fi
done

status=0
"$ROOT/scripts/env_distro.sh" "$DISTRO" pytest "${paths[@]}" "${selection[@]}" "$@" || status=$?
if [ $status -eq 5 ]; then
  echo "test_distro.sh: pytest collected no tests" >&2
  exit 1
fi
exit $status
