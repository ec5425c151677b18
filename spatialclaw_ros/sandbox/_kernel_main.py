"""Entry point of a sandboxed kernel: applies its limits, then runs ipykernel (stdlib and ipykernel only).

This file is executed as a script by the kernel's own interpreter, inside the sandbox. Its single argument
is a JSON object: ``connection_file`` (path inside the sandbox), ``rlimits`` (resource name -> [soft, hard],
or null to leave the limits alone), ``cwd`` and ``make_dirs`` (directories to create before start).
"""

import ctypes
import json
import os
import resource
import signal
import sys
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _apply_rlimits(rlimits: dict) -> None:
    for name, (soft, hard) in rlimits.items():
        resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), (soft, hard))


def _on_cpu_limit(signum: int, frame: object) -> None:
    raise RuntimeError("the kernel's CPU-time limit is exhausted; it will be killed in a few CPU seconds")


def main() -> None:
    """Apply the configuration in ``sys.argv[1]`` and serve Jupyter on its connection file."""
    config = json.loads(sys.argv[1])
    _die_with_parent()
    if config.get("rlimits") is not None:
        _apply_rlimits(config["rlimits"])
        signal.signal(signal.SIGXCPU, _on_cpu_limit)
    os.environ.pop("JPY_PARENT_PID", None)
    for path in config.get("make_dirs", ()):
        Path(path).mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chdir(config["cwd"])
    own_dir = str(Path(__file__).resolve().parent)
    sys.path[:] = [entry for entry in sys.path if entry != own_dir]
    sys.argv = [
        "spatialclaw-kernel",
        "-f",
        config["connection_file"],
        "--HistoryManager.enabled=False",
    ]
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance()


if __name__ == "__main__":
    main()
