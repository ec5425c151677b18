"""The kernel's environment variables: built from an allow-list, never inherited with secrets or ROS."""

from __future__ import annotations

from collections.abc import Mapping

_FORBIDDEN_PREFIXES = (
    "ROS_",
    "RMW_",
    "AMENT_",
    "FASTRTPS_",
    "FASTDDS_",
    "CYCLONEDDS_",
    "ZENOH_",
    "RCUTILS_",
    "RCL_",
    "COLCON_",
    "CMAKE_PREFIX_PATH",
    "AWS_",
    "OPENAI",
    "ANTHROPIC",
    "HF_",
    "HUGGING",
    "JPY_",
    "LD_",
    "PYTHON",
    "SSH_",
    "GPG_",
)
_FORBIDDEN_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH", "COOKIE", "SESSION")
_ROS_PATH_MARKERS = ("/opt/ros/", "/ros2", "ament", "colcon", "rclpy")


def is_forbidden_env_key(key: str) -> bool:
    """True for variables a kernel must never see: secrets, ROS/DDS configuration, loader and Python paths."""
    upper = key.upper()
    return upper.startswith(_FORBIDDEN_PREFIXES) or any(word in upper for word in _FORBIDDEN_WORDS)


def scrub_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` without forbidden variables, and PATH without ROS entries (for ``mode="off"``)."""
    clean = {key: value for key, value in environ.items() if not is_forbidden_env_key(key)}
    if "PATH" in clean:
        entries = [entry for entry in clean["PATH"].split(":") if not _is_ros_path(entry)]
        clean["PATH"] = ":".join(entries)
    return clean


def _is_ros_path(entry: str) -> bool:
    lowered = entry.lower()
    return any(marker in lowered for marker in _ROS_PATH_MARKERS)


def kernel_environ(
    *,
    bin_dir: str,
    scratch: str,
    snapshot: str,
    services: str,
    pythonpath: str,
    compute_threads: int,
) -> dict[str, str]:
    """The whole environment of a sandboxed kernel (paths as the kernel sees them; nothing inherited)."""
    threads = str(compute_threads)
    return {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": scratch,
        "TMPDIR": "/tmp",
        "IPYTHONDIR": f"{scratch}/.ipython",
        "MPLCONFIGDIR": f"{scratch}/.config/matplotlib",
        "XDG_CACHE_HOME": f"{scratch}/.cache",
        "XDG_CONFIG_HOME": f"{scratch}/.config",
        "MPLBACKEND": "Agg",
        "PYTHONPATH": pythonpath,
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "dumb",
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "NUMEXPR_NUM_THREADS": threads,
        "SPATIALCLAW_SCRATCH": scratch,
        "SPATIALCLAW_SNAPSHOT": snapshot,
        "SPATIALCLAW_SERVICES": services,
    }
