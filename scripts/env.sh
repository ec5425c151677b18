#!/usr/bin/env bash
# Runs a command inside the project's environment: the .venv with the ROS 2 wheels and the colcon
# install space (our generated interfaces), Fast DDS kept on this machine.
# Usage: scripts/env.sh COMMAND [ARGS...]
# With SPATIALCLAW_PYTHON_VERSION=X.Y set (scripts/test.sh --python X.Y sets it, and child processes inherit
# it), the command runs in the ROS-free .venv-pyX.Y of `scripts/setup.sh --python X.Y` instead.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -n "${SPATIALCLAW_PYTHON_VERSION:-}" ]; then
  venv="$ROOT/.venv-py$SPATIALCLAW_PYTHON_VERSION"
  [ -x "$venv/bin/python" ] || { echo "env.sh: no $venv; run scripts/setup.sh --python X.Y" >&2; exit 1; }
  # shellcheck disable=SC1091
  source "$venv/bin/activate"
  exec "$@"
fi
[ -x "$ROOT/.venv/bin/python" ] || { echo "env.sh: no .venv; run scripts/setup.sh first" >&2; exit 1; }
[ -f "$ROOT/install/setup.bash" ] || { echo "env.sh: no install/; run scripts/setup.sh first" >&2; exit 1; }
# shellcheck disable=SC1091
source "$ROOT/.venv/bin/activate"
# colcon's setup scripts read unset variables.
set +u
# shellcheck disable=SC1091
source "$ROOT/install/setup.bash"
set -u
export ROS_AUTOMATIC_DISCOVERY_RANGE="${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}"
export RMW_IMPLEMENTATION="${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}"
exec "$@"
