#!/usr/bin/env bash
# Runs a command inside the environment of `scripts/setup_distro.sh DISTRO`: .venv-DISTRO with that
# distribution's ROS 2 wheels and the install-DISTRO colcon space, with scripts/env.sh's settings
# (Fast DDS, discovery kept on this machine; the tests' conftest picks the domain).
# Usage: scripts/env_distro.sh DISTRO COMMAND [ARGS...]
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: scripts/env_distro.sh DISTRO COMMAND [ARGS...]" >&2; exit 2; }
DISTRO="$1"
shift
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$ROOT/.venv-$DISTRO"
install="$ROOT/install-$DISTRO"
[ -x "$venv/bin/python" ] && [ -f "$install/setup.bash" ] \
  || { echo "env_distro.sh: no $DISTRO environment; run scripts/setup_distro.sh $DISTRO first" >&2; exit 1; }
# A caller inside another environment (scripts/env.sh's Kilted one, a sourced /opt/ros) must not leak its
# prefixes into this one: colcon's setup script appends to whatever these hold.
unset AMENT_PREFIX_PATH COLCON_PREFIX_PATH CMAKE_PREFIX_PATH PYTHONPATH SPATIALCLAW_PYTHON_VERSION
# The wheels' bootstrapper (a .pth file) re-executes Python once with its venv's libraries on
# LD_LIBRARY_PATH and marks that done in the environment, which children inherit: a mark and libraries
# left by another of this repository's venvs would load that distribution's librcl into this one.
unset _ROS_WHEELS_BOOTSTRAP_COMPLETE
kept_libraries=()
IFS=: read -ra library_dirs <<< "${LD_LIBRARY_PATH:-}"
for dir in "${library_dirs[@]}"; do
  if [ -n "$dir" ] && [[ "$dir" != "$ROOT"/.venv* ]]; then kept_libraries+=("$dir"); fi
done
if [ ${#kept_libraries[@]} -eq 0 ]; then
  unset LD_LIBRARY_PATH
else
  LD_LIBRARY_PATH="$(IFS=:; echo "${kept_libraries[*]}")"
  export LD_LIBRARY_PATH
fi
# shellcheck disable=SC1091
source "$venv/bin/activate"
# colcon's setup scripts read unset variables.
set +u
# shellcheck disable=SC1091
source "$install/setup.bash"
set -u
export ROS_AUTOMATIC_DISCOVERY_RANGE="${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}"
export RMW_IMPLEMENTATION="${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}"
exec "$@"
