from spatialclaw_ros.sandbox._results import cell_error, failing_cell_line, strip_ansi

CODE = "x = 1\ny = 0\nz = x / y\n"
TRACEBACK = [
    "\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
    "\x1b[0;31mZeroDivisionError\x1b[0m  Traceback (most recent call last)",
    "Cell \x1b[0;32mIn[7], line 3\x1b[0m\n\x1b[1;32m      1\x1b[0m x \x1b[38;5;241m=\x1b[39m 1\n",
    "\x1b[0;31mZeroDivisionError\x1b[0m: division by zero",
]


def test_ansi_sequences_are_removed():
    assert strip_ansi("\x1b[0;31mError\x1b[0m: \x1b]0;title\x07x") == "Error: x"


def test_failing_line_of_this_cell_is_found():
    assert failing_cell_line(strip_ansi("\n".join(TRACEBACK)), CODE, 7) == (3, "z = x / y")


def test_frames_of_earlier_cells_are_ignored():
    text = "Cell In[7], line 2\n  f()\nCell In[3], line 9\n  1 / 0\n"
    assert failing_cell_line(text, CODE, 7) == (2, "y = 0")


def test_line_outside_the_cell_gives_none():
    assert failing_cell_line("Cell In[7], line 40", CODE, 7) == (None, None)


def test_cell_error_accepts_garbage_types():
    error = cell_error({"a": 1}, None, 12345, CODE, None, 100)
    assert error.ename == "{'a': 1}"
    assert error.traceback == "12345"
    assert error.line_no is None


def test_cell_error_names_line():
    error = cell_error("ZeroDivisionError", "division by zero", TRACEBACK, CODE, 7, 10_000)
    assert (error.line_no, error.line) == (3, "z = x / y")
    assert "\x1b" not in error.traceback
