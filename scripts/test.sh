#!/usr/bin/env bash
# The project's test command: the whole pytest suite inside the project's environment.
# Extra arguments go to pytest (e.g. scripts/test.sh test/unit -q).
# Exits non-zero on any failure, and also when no test ran at all.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/env.sh" pytest "$@"
status=$?
if [ $status -eq 5 ]; then
  echo "test.sh: pytest collected no tests" >&2
  exit 1
fi
exit $status
