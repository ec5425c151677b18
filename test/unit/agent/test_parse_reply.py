from spatialclaw_ros.agent._parse import parse_reply


def test_one_cell_with_prose_around_it():
    parsed = parse_reply("I will measure.\n```python\nx = 1\nprint(x)\n```\nThat is all.")
    assert parsed.code == "x = 1\nprint(x)"
    assert parsed.reasoning == "I will measure.\nThat is all."
    assert parsed.error is None


def test_think_block_is_removed():
    parsed = parse_reply("<think>```python\nbad = 1\n```</think>Now:\n```python\ngood = 2\n```")
    assert parsed.code == "good = 2"
    assert "bad = 1" in parsed.thinking


def test_closing_think_without_opening():
    parsed = parse_reply("reasoning the server split off</think>\n```python\ny = 3\n```")
    assert parsed.code == "y = 3"
    assert parsed.thinking == "reasoning the server split off"


def test_missing_closing_fence_takes_the_rest():
    assert parse_reply("Go.\n```python\na = 1\nb = 2\n").code == "a = 1\nb = 2"


def test_unmarked_and_py_fences_are_python():
    assert parse_reply("```\nz = 1\n```").code == "z = 1"
    assert parse_reply("```py\nz = 2\n```").code == "z = 2"


def test_other_language_blocks_are_not_cells():
    parsed = parse_reply("Output looks like:\n```text\n1 2 3\n```\n```python\nq = 4\n```")
    assert parsed.code == "q = 4"


def test_no_code_block_is_an_error():
    parsed = parse_reply("The answer is 3 m.")
    assert parsed.code is None and parsed.error == "no_code"


def test_two_cells_are_an_error():
    assert parse_reply("```python\na = 1\n```\n```python\nb = 2\n```").error == "many_cells"


def test_empty_cell_is_an_error():
    assert parse_reply("```python\n\n```").error == "empty_cell"


def test_crlf_reply_cell_ends_at_its_closing_fence_and_keeps_its_lines():
    parsed = parse_reply("Plan.\r\n```python\r\n\r\nx = 1\r\ny = x / 0\r\n```\r\nDone.\r\n")
    assert parsed.code == "\r\nx = 1\r\ny = x / 0"
    assert parsed.reasoning == "Plan.\nDone."


def test_leading_blank_lines_of_a_cell_are_kept():
    assert parse_reply("```python\n\n\nx = 1\n```").code == "\n\nx = 1"
