"""Start ROS 2 executables of this package in their own processes, and stop them as a robot would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from spatialclaw_ros.ros.processes import stop

REPO_ROOT = Path(__file__).resolve().parents[2]


def installed_executable(name: str) -> Path:
    """Path of an executable that colcon installed into lib/spatialclaw_ros."""
    prefix = os.environ.get("COLCON_PREFIX_PATH", str(REPO_ROOT / "install")).split(os.pathsep)[0]
    path = Path(prefix) / "spatialclaw_ros" / "lib" / "spatialclaw_ros" / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run scripts/setup.sh (colcon build) first")
    return path


def ros_args(
    *,
    namespace: str = "",
    parameters: Mapping[str, object] | None = None,
    params_file: Path | None = None,
    remaps: Mapping[str, str] | None = None,
) -> list[str]:
    """Command-line ``--ros-args`` for a node."""
    args = ["--ros-args"]
    if namespace:
        args += ["-r", f"__ns:={namespace}"]
    if params_file is not None:
        args += ["--params-file", str(params_file)]
    for name, value in (parameters or {}).items():
        args += ["-p", f"{name}:={_yaml_value(value)}"]
    for source, target in (remaps or {}).items():
        args += ["-r", f"{source}:={target}"]
    return args


def _yaml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_yaml_value(item) for item in value) + "]"
    if isinstance(value, str):
        return f"'{value}'"
    return str(value)


@contextmanager
def running(command: Sequence[str | os.PathLike], *, name: str) -> Iterator[subprocess.Popen]:
    """Run ``command`` for the duration of the block; on exit stop it with SIGINT (then SIGKILL).

    Its output goes to a log file whose tail is attached to any failure inside the block; once the
    block is over, the whole output is ``process.output`` (str).
    """
    log_dir = Path(tempfile.mkdtemp(prefix=f"spatialclaw-{name}-"))
    log_path = log_dir / "output.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(part) for part in command], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield process
        except BaseException:
            sys.stderr.write(f"--- {name} output ---\n{log_path.read_text(errors='replace')[-4000:]}\n")
            raise
        finally:
            stop(process)
    process.output = log_path.read_text(errors="replace")
    shutil.rmtree(log_dir, ignore_errors=True)
