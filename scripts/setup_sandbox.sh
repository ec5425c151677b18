#!/usr/bin/env bash
# Prepares the machine for the sandboxed Jupyter kernels (spatialclaw_ros.sandbox). Run as root from the
# repository root. Idempotent: a second run checks and changes nothing.
#
#   1. installs bubblewrap (Debian package `bubblewrap`, the first-choice sandbox) when `bwrap` is missing;
#   2. checks that unprivileged user namespaces are enabled (bwrap runs as the unprivileged user);
#   3. creates the unprivileged system users the kernels and the perception service run as;
#   4. installs libseccomp2 (Debian package; the kernel's seccomp filter loads it through pyseccomp);
#   5. creates the kernel's own Python environment from requirements/kernel.txt (no ROS in it), in a
#      world-readable place, on a world-readable interpreter (the system python3 by default), and checks
#      that it imports pyseccomp (strict-mode kernels refuse to start without their seccomp filter).
#
# Settings (environment variables; the node's sandbox settings must name the same values):
#   SPATIALCLAW_SANDBOX_USER          default spatialclaw-sandbox
#   SPATIALCLAW_PERCEPTION_USER       default spatialclaw-perception (perception.service_user)
#   SPATIALCLAW_KERNEL_ENV            default /opt/spatialclaw/kernel-env   (kernel python: $ENV/bin/python)
#   SPATIALCLAW_KERNEL_BASE_PYTHON    default /usr/bin/python3 (must be executable by the sandbox user)
set -euo pipefail

SANDBOX_USER="${SPATIALCLAW_SANDBOX_USER:-spatialclaw-sandbox}"
PERCEPTION_USER="${SPATIALCLAW_PERCEPTION_USER:-spatialclaw-perception}"
KERNEL_ENV="${SPATIALCLAW_KERNEL_ENV:-/opt/spatialclaw/kernel-env}"
BASE_PYTHON="${SPATIALCLAW_KERNEL_BASE_PYTHON:-/usr/bin/python3}"
REQUIREMENTS="requirements/kernel.txt"

STEP="start"
step() { STEP="$1"; }
say() { echo "setup_sandbox: $*"; }
trap 'echo "setup_sandbox: FAILED at step: ${STEP} (line ${LINENO})" >&2' ERR

apt_install() {
  # apt-get update only when the package has no install candidate yet.
  if ! apt-cache policy "$@" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

step "check root and cwd"
[[ "$(id -u)" == 0 ]] || { echo "setup_sandbox: must run as root" >&2; exit 1; }
[[ -f "$REQUIREMENTS" ]] || { echo "setup_sandbox: run from the repository root ($REQUIREMENTS missing)" >&2; exit 1; }

step "install bubblewrap"
if command -v bwrap >/dev/null 2>&1; then
  say "bubblewrap present ($(bwrap --version))"
else
  apt_install bubblewrap
  say "installed bubblewrap ($(bwrap --version))"
fi

step "check unprivileged user namespaces"
max_userns="$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 0)"
clone_flag="$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null || echo 1)"
apparmor_flag="$(cat /proc/sys/kernel/apparmor_restrict_unprivileged_userns 2>/dev/null || echo 0)"
if [[ "$max_userns" -gt 0 && "$clone_flag" == 1 && "$apparmor_flag" == 0 ]]; then
  say "unprivileged user namespaces enabled (user.max_user_namespaces=$max_userns)"
else
  say "WARNING: unprivileged user namespaces are restricted (user.max_user_namespaces=$max_userns," \
    "kernel.unprivileged_userns_clone=$clone_flag, kernel.apparmor_restrict_unprivileged_userns=$apparmor_flag);" \
    "bwrap cannot run as the sandbox user, the Python fallback launcher will be used"
fi

for user in "$SANDBOX_USER" "$PERCEPTION_USER"; do
  step "create system user $user"
  if getent passwd "$user" >/dev/null; then
    say "user $user present (uid $(id -u "$user"))"
  else
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
    say "created system user $user (uid $(id -u "$user"))"
  fi
done

step "install libseccomp2"
if ldconfig -p | grep -q 'libseccomp\.so\.2'; then
  say "libseccomp2 present"
else
  apt_install libseccomp2
  say "installed libseccomp2"
fi

step "check base interpreter $BASE_PYTHON"
[[ -x "$BASE_PYTHON" ]] || { echo "setup_sandbox: base interpreter $BASE_PYTHON not found" >&2; false; }
if ! "$BASE_PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
  apt_install python3-venv
  say "installed python3-venv"
fi
runuser -u "$SANDBOX_USER" -- "$BASE_PYTHON" -c 'pass' ||
  { echo "setup_sandbox: $SANDBOX_USER cannot run $BASE_PYTHON (pick a world-readable interpreter)" >&2; false; }

step "create kernel environment $KERNEL_ENV"
base_real="$(readlink -f "$BASE_PYTHON")"
if [[ -x "$KERNEL_ENV/bin/python" ]] && [[ "$(readlink -f "$KERNEL_ENV/bin/python")" == "$base_real" ]]; then
  say "kernel environment present ($KERNEL_ENV)"
else
  mkdir -p "$(dirname "$KERNEL_ENV")"
  "$BASE_PYTHON" -m venv --clear "$KERNEL_ENV"
  say "created kernel environment $KERNEL_ENV on $base_real"
fi

step "install $REQUIREMENTS into $KERNEL_ENV"
stamp_file="$KERNEL_ENV/.requirements.sha256"
want_stamp="$( (sha256sum "$REQUIREMENTS" | cut -d' ' -f1; echo "$base_real") | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$want_stamp" ]]; then
  say "kernel packages up to date"
else
  "$KERNEL_ENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  chmod -R a+rX "$KERNEL_ENV"
  mpl_dir="$(mktemp -d)"
  chown "$SANDBOX_USER" "$mpl_dir"
  runuser -u "$SANDBOX_USER" -- env MPLCONFIGDIR="$mpl_dir" "$KERNEL_ENV/bin/python" -c \
    'import numpy, scipy, cv2, matplotlib, ipykernel, zmq, pyseccomp'
  rm -rf "$mpl_dir"
  if runuser -u "$SANDBOX_USER" -- "$KERNEL_ENV/bin/python" -c 'import rclpy' 2>/dev/null; then
    echo "setup_sandbox: rclpy is importable in the kernel environment; it must not be" >&2
    false
  fi
  echo "$want_stamp" >"$stamp_file"
  say "installed kernel packages from $REQUIREMENTS"
fi

say "done (bwrap: $(command -v bwrap), user: $SANDBOX_USER, kernel python: $KERNEL_ENV/bin/python)"
