"""A failing cell names its line as the cell was sent: 1-based, leading blank lines and comments counted."""

from collections.abc import Iterator

import pytest

from spatialclaw_ros.sandbox import Kernel, KernelPool

pytestmark = pytest.mark.sandbox

LEADING_BLANK = "\nx = 1\ny = 2\nz = 3\na = 4\nb = 5\nc = 6\nratio = 1 / 0\n"
LEADING_COMMENTS = "# measure the gap\n# in metres\n\ngap_m = 0\nscale = 1 / gap_m\n"
CRLF = "\r\n\r\nwidth_m = 2.0\r\nheight_m = 0\r\naspect = width_m / height_m\r\nprint(aspect)\r\n"
TABS = "def area(w, h):\n\tif w > 0:\n\t\treturn w / h\n\treturn 0\n\narea(2, 0)\n"
IN_FUNCTION = "\ndef ratio(v):\n    scale = 2\n    return scale / v\n\nratio(0)\n"
CALL_CHAIN = (
    "def outer(v):\n    return middle(v)\n\n\ndef middle(v):\n    return inner(v)\n\n\n"
    "def inner(v):\n    return 1 / v\n\n\nouter(0)\n"
)
LIBRARY = "\nimport json\n\n# parse the label\nlabel = json.loads('{broken')\n"
SYNTAX = "\n\nx = 1\nif x > 0\n    y = 2\n"
INDENTATION = "\nx = 1\n  y = 2\n"


@pytest.fixture(scope="module")
def kernel(pool: KernelPool) -> Iterator[Kernel]:
    """One kernel for every cell of this module: the cells are independent of each other."""
    with pool.acquire(timeout_s=60) as acquired:
        yield acquired


@pytest.mark.parametrize(
    ("code", "ename", "line_no", "line"),
    [
        (LEADING_BLANK, "ZeroDivisionError", 8, "ratio = 1 / 0"),
        (LEADING_COMMENTS, "ZeroDivisionError", 5, "scale = 1 / gap_m"),
        (CRLF, "ZeroDivisionError", 5, "aspect = width_m / height_m"),
        (TABS, "ZeroDivisionError", 3, "\t\treturn w / h"),
        (IN_FUNCTION, "ZeroDivisionError", 4, "    return scale / v"),
        (CALL_CHAIN, "ZeroDivisionError", 10, "    return 1 / v"),
        (LIBRARY, "JSONDecodeError", 5, "label = json.loads('{broken')"),
        (SYNTAX, "SyntaxError", 4, "if x > 0"),
        (INDENTATION, "IndentationError", 3, "  y = 2"),
    ],
    ids=[
        "leading-blank",
        "leading-comments",
        "crlf",
        "tabs",
        "in-function",
        "call-chain",
        "library",
        "syntax",
        "indentation",
    ],
)
def test_error_names_the_line_as_sent(kernel: Kernel, code: str, ename: str, line_no: int, line: str):
    result = kernel.execute(code, timeout_s=30)
    assert result.status == "error" and result.error is not None
    assert result.error.ename == ename
    assert (result.error.line_no, result.error.line) == (line_no, line)


def test_function_of_an_earlier_cell_names_the_call_line(kernel: Kernel):
    assert kernel.execute("\ndef halve(v):\n    return v / 0\n", timeout_s=30).status == "ok"
    error = kernel.execute("# call it\n\nhalve(4)\n", timeout_s=30).error
    assert error is not None and (error.line_no, error.line) == (3, "halve(4)")


def test_cell_that_succeeds_has_no_error(kernel: Kernel):
    result = kernel.execute("\n# fine\nvalue = 1 / 4\nprint(value)\n", timeout_s=30)
    assert result.status == "ok" and result.error is None
    assert result.stdout == "0.25\n"
