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


def test_crlf_and_cr_line_ends_count_as_python_counts_them():
    assert failing_cell_line("Cell In[2], line 3", "a = 1\r\nb = 2\r\nc = 1 / 0\r\n", 2) == (3, "c = 1 / 0")
    assert failing_cell_line("Cell In[2], line 3", "a = 1\rb = 2\rc = 1 / 0\r", 2) == (3, "c = 1 / 0")


def test_form_feed_and_unicode_separators_do_not_end_lines():
    code = "a = 1\x0c\nb = 'x\u2028y\x85z'\nc = 1 / 0\n"
    assert failing_cell_line("Cell In[2], line 3", code, 2) == (3, "c = 1 / 0")


def test_innermost_frame_of_this_cell_is_the_line_inside_the_function():
    text = (
        "ZeroDivisionError  Traceback (most recent call last)\n"
        "Cell In[4], line 4\n      2     return 1 / v\n----> 4 f(0)\n\n"
        "Cell In[4], line 2, in f(v)\n      1 def f(v):\n----> 2     return 1 / v\n\n"
        "ZeroDivisionError: division by zero"
    )
    assert failing_cell_line(text, "def f(v):\n    return 1 / v\n\nf(0)\n", 4) == (2, "    return 1 / v")


def test_frame_headers_quoted_in_source_lines_or_messages_are_not_frames():
    code = "x = 1\nraise ValueError('Cell In[5], line 1')\n"
    text = (
        "Cell In[5], line 2\n      1 x = 1\n----> 2 raise ValueError('Cell In[5], line 1')\n\n"
        "ValueError: Cell In[5], line 1"
    )
    assert failing_cell_line(text, code, 5) == (2, "raise ValueError('Cell In[5], line 1')")


def test_syntax_error_header_is_indented():
    text = "  Cell In[6], line 3\n    y = (\n        ^\nSyntaxError: '(' was never closed"
    assert failing_cell_line(text, "\nx = 1\ny = (\n", 6) == (3, "y = (")


def test_line_past_the_last_line_end_gives_none():
    assert failing_cell_line("Cell In[7], line 4", CODE, 7) == (None, None)
