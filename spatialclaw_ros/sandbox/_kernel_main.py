"""Entry point of a sandboxed kernel: applies its limits and seccomp filter, then runs ipykernel.

Stdlib and ipykernel only, and ``_kernel_seccomp.py`` (staged beside it) with pyseccomp for the filter.

This file is executed as a script by the kernel's own interpreter, inside the sandbox. Its single argument
is a JSON object: ``connection_file`` (path inside the sandbox), ``rlimits`` (resource name -> [soft, hard],
or null to leave the limits alone), ``seccomp`` (``required``: no start without the filter of
``_kernel_seccomp.py``; ``optional``: without it, a warning; null: no filter), ``max_cell_output_bytes``
(what one cell may write to stdout and stderr together; null: unbounded), ``cwd`` and ``make_dirs``
(directories to create before start).
"""

import ctypes
import json
import os
import resource
import signal
import sys
import textwrap
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _apply_rlimits(rlimits: dict) -> None:
    for name, (soft, hard) in rlimits.items():
        resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), (soft, hard))


def _apply_seccomp(mode: str) -> None:
    """Install the seccomp filter; exit when it is ``required`` and cannot be, else warn in the log."""
    try:
        import _kernel_seccomp

        _kernel_seccomp.install()
    except (ImportError, OSError) as exc:
        if mode == "required":
            sys.exit(f"sandbox: refusing to start without the seccomp filter (require_seccomp): {exc!r}")
        sys.stderr.write(f"sandbox: WARNING: running without the seccomp filter: {exc!r}\n")


def _on_cpu_limit(signum: int, frame: object) -> None:
    raise RuntimeError("the kernel's CPU-time limit is exhausted; it will be killed in a few CPU seconds")


def _keep_leading_blank_lines(lines: list[str]) -> list[str]:
    """IPython's ``leading_empty_lines`` cleanup transform, except that a cell's leading blank lines stay.

    IPython drops them, which shifts the line numbers of the cell's tracebacks and syntax errors (line 8
    of a cell that starts with a blank line was reported as line 7). ``lines`` are the cell's lines with
    their line ends; kept, line n of the compiled cell is line n of the cell as sent. They are dropped only
    before a cell magic, which must be the first line (its body is not compiled as the cell).

    Kept blank lines are emptied and the code below them dedented here, as IPython 9's ``leading_indent``
    does: IPython 8 (the last for Python 3.10) only reads the first line's indent, which is now blank.
    """
    for index, line in enumerate(lines):
        if not line.isspace():
            if line.startswith("%%"):
                return lines[index:]
            if index == 0:
                return lines
            return ["\n"] * index + textwrap.dedent("".join(lines[index:])).splitlines(keepends=True)
    return lines


def _keep_cell_lines(cleanup_transforms: list) -> None:
    """Put ``_keep_leading_blank_lines`` in place of ``leading_empty_lines`` in IPython's cleanup transforms.

    ``cleanup_transforms`` is a shell's ``input_transformers_cleanup`` list; it is changed in place.
    """
    from IPython.core.inputtransformer2 import leading_empty_lines

    cleanup_transforms[:] = [
        _keep_leading_blank_lines if step is leading_empty_lines else step for step in cleanup_transforms
    ]


def _pack_any_text(message: object) -> bytes:
    """Jupyter's JSON packer, falling back to ASCII escapes for text UTF-8 cannot carry.

    A lone surrogate (U+D800 to U+DFFF alone, as ``print(chr(0xD800))`` writes) makes the default
    packer raise, and the kernel then loses that output or the cell's display; escaped, it reaches the
    host, which replaces it with U+FFFD.
    """
    from jupyter_client.session import json_default, json_packer

    try:
        return json_packer(message)
    except UnicodeEncodeError:
        return json.dumps(message, default=json_default, ensure_ascii=True, allow_nan=False).encode("ascii")


class OutputLimitError(OSError):
    """A cell wrote more to stdout and stderr than one cell may; raised by the write itself."""


class _OutputBound:
    """Counts the characters the running cell writes to stdout and stderr; past ``limit``, writes raise.

    Without it a flood of prints grows ipykernel's output buffers until the kernel's memory limit, and
    the cell's output is lost without an error the cell could see.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.written = 0

    def reset(self, *_: object) -> None:
        """A new cell starts (IPython's ``pre_run_cell`` event)."""
        self.written = 0

    def bound(self, stream: object) -> None:
        """Make ``stream.write`` count against this bound."""
        write = stream.write  # type: ignore[attr-defined]

        def bounded_write(text: str) -> int:
            self.written += len(text)
            if self.written > self.limit:
                raise OutputLimitError(
                    f"this cell wrote more than {self.limit // 2**20} MiB to stdout and stderr; "
                    "print less (summaries, shapes, a few values)"
                )
            return write(text)

        stream.write = bounded_write  # type: ignore[attr-defined]


def _serve(max_cell_output_bytes: int | None) -> None:
    """Run ipykernel with the command line in ``sys.argv``.

    Cell lines are kept as sent, any text is packable, and each cell's output is bounded.
    """
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize()
    app.session.pack = _pack_any_text
    _keep_cell_lines(app.shell.input_transformers_cleanup)
    if max_cell_output_bytes is not None:
        output = _OutputBound(max_cell_output_bytes)
        output.bound(sys.stdout)
        output.bound(sys.stderr)
        app.shell.events.register("pre_run_cell", output.reset)
    app.start()


def main() -> None:
    """Apply the configuration in ``sys.argv[1]`` and serve Jupyter on its connection file."""
    config = json.loads(sys.argv[1])
    _die_with_parent()
    if config.get("rlimits") is not None:
        _apply_rlimits(config["rlimits"])
        signal.signal(signal.SIGXCPU, _on_cpu_limit)
    if config.get("seccomp") is not None:
        _apply_seccomp(config["seccomp"])
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
    _serve(config.get("max_cell_output_bytes"))


if __name__ == "__main__":
    main()
