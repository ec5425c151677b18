#!/usr/bin/env bash
# Runs a command inside the project's environment: the .venv with the ROS 2 wheels and the colcon
# install space (our generated interfaces), Fast DDS kept on this machine.
# Usage: scripts/env.sh COMMAND [ARGS...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
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
