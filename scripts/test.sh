#!/usr/bin/env bash
# The project's test command: the whole pytest suite inside the project's environment.
#   scripts/test.sh                 everything
#   scripts/test.sh --fast          the fast tier: test/unit, which needs neither ROS nor a kernel process
# Extra arguments go to pytest (e.g. scripts/test.sh test/agent -q, scripts/test.sh --ignore=test/unit).
# Exits non-zero on any failure, and also when no test ran at all.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
args=("$@")
if [ "${1:-}" = "--fast" ]; then
  args=(test/unit -m "not ros and not sandbox and not slow" "${@:2}")
fi
"$ROOT/scripts/env.sh" pytest "${args[@]}"
status=$?
if [ $status -eq 5 ]; then
  echo "test.sh: pytest collected no tests" >&2
  exit 1
fi
exit $status
