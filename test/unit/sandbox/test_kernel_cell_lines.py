"""The kernel compiles a cell with the lines it was sent: IPython would drop its leading blank lines."""

import traceback

import pytest
from IPython.core.inputtransformer2 import TransformerManager

from spatialclaw_ros.sandbox._kernel_main import _keep_cell_lines


def _transformed(cell: str) -> str:
    manager = TransformerManager()
    _keep_cell_lines(manager.cleanup_transforms)
    return manager.transform_cell(cell)


def _failing_line(cell: str) -> int:
    """The 1-based line of ``cell``, as the kernel compiles it, where it raises ZeroDivisionError."""
    with pytest.raises(ZeroDivisionError) as raised:
        exec(compile(_transformed(cell), "cell", "exec"), {})
    return traceback.extract_tb(raised.value.__traceback__)[-1].lineno


def test_ipython_alone_drops_leading_blank_lines():
    assert TransformerManager().transform_cell("\n\nx = 1\n") == "x = 1\n"


def test_leading_blank_lines_are_kept():
    assert _transformed("\n \t\nx = 1\n").splitlines() == ["", "", "x = 1"]
    assert _failing_line("\n\nx = 1\n1 / 0\n") == 4


def test_indented_cell_after_blank_lines_is_still_dedented():
    assert _failing_line("\n    x = 1\n    1 / 0\n") == 3


def test_crlf_cell_keeps_its_lines():
    assert _failing_line("\r\n\r\nx = 1\r\n1 / 0\r\n") == 4


def test_blank_lines_before_a_cell_magic_are_dropped():
    assert _transformed("\n\n%%time\nx = 1\n").startswith("get_ipython().run_cell_magic('time'")
