import pytest

pytestmark = pytest.mark.sandbox


def test_memory_balloon_raises_memory_error_and_keeps_state(kernel):
    kernel.execute("kept = 7")
    result = kernel.execute("balloon = bytearray(8 * 1024**3)")
    assert result.error.ename == "MemoryError"
    assert kernel.execute("print(kept)").stdout.strip() == "7"


def test_numpy_balloon_raises_memory_error(kernel):
    result = kernel.execute("import numpy as np\nx = np.ones((60_000, 60_000))")
    assert result.error.ename == "MemoryError" and result.error.line_no == 2


def test_shared_memory_balloon_is_bounded(kernel):
    code = """
chunk = b'x' * 2**20
with open('/dev/shm/balloon', 'wb') as f:
    for _ in range(1024):
        f.write(chunk)
"""
    result = kernel.execute(code)
    assert result.error.ename == "OSError" and "No space left" in result.error.evalue


def test_file_size_limit_stops_big_writes(kernel):
    code = """
chunk = b'x' * 2**20
with open('big.bin', 'wb') as f:
    for _ in range(200):
        f.write(chunk)
"""
    result = kernel.execute(code)
    assert result.error.ename == "OSError" and "too large" in result.error.evalue
    assert (kernel.scratch_dir / "big.bin").stat().st_size <= 64 * 2**20


def test_too_many_open_files_fails_inside_the_cell(kernel):
    result = kernel.execute("handles = [open('/dev/null') for _ in range(100_000)]")
    assert result.error.ename == "OSError" and "Too many open files" in result.error.evalue
    # The failed comprehension bound nothing, its files closed with it, and the kernel opens files again.
    after = kernel.execute("print('handles' in globals())\nopen('/dev/null').close()\nprint('opened')")
    assert (after.status, after.stdout.split()) == ("ok", ["False", "opened"])


def test_cpu_spin_past_timeout_is_interrupted_and_keeps_state(kernel):
    kernel.execute("kept = 7")
    result = kernel.execute("while True:\n    pass", timeout_s=1.0)
    assert (result.status, result.state_lost, result.error.ename) == ("timeout", False, "TimeoutError")
    assert result.error.line_no in (1, 2)
    assert kernel.execute("print(kept)").stdout.strip() == "7"


def test_interrupt_swallowing_cell_is_killed_and_state_lost(kernel):
    kernel.execute("kept = 7")
    code = """
while True:
    try:
        while True:
            pass
    except KeyboardInterrupt:
        pass
"""
    result = kernel.execute(code, timeout_s=1.0)
    assert (result.status, result.state_lost) == ("timeout", True)
    assert "lost" in result.error.evalue
    after = kernel.execute("print(kept)")
    assert after.error.ename == "NameError"
    assert kernel.generation == 1


def test_external_interrupt_stops_a_running_cell(kernel):
    import threading

    timer = threading.Timer(0.5, kernel.interrupt)
    timer.start()
    result = kernel.execute("import time\ntime.sleep(30)", timeout_s=20)
    assert (result.status, result.error.ename, result.state_lost) == ("error", "KeyboardInterrupt", False)
    assert result.duration_s < 10


def test_endless_print_is_capped(kernel):
    result = kernel.execute("for i in range(10**8):\n    print(i)", timeout_s=3.0)
    assert result.status == "timeout" and result.truncated
    assert len(result.stdout) < 4000 + 100
    assert result.stdout.startswith("0\n1\n2\n") and "characters cut" in result.stdout


def test_one_huge_string_print_is_capped(kernel):
    result = kernel.execute("print('x' * 10**8)", timeout_s=20)
    assert len(result.stdout) < 4000 + 100
    assert kernel.execute("1").status == "ok"


def test_deep_recursion_raises_recursion_error(kernel):
    result = kernel.execute("def f(n):\n    return f(n + 1)\nf(0)")
    assert result.error.ename == "RecursionError" and result.error.line_no == 2


def test_c_stack_overflow_kills_only_the_kernel(kernel):
    code = """
import sys
sys.setrecursionlimit(10**8)
nested = []
for _ in range(10**6):
    nested = [nested]
repr(nested)
"""
    result = kernel.execute(code, timeout_s=30)
    assert (result.status, result.state_lost) == ("died", True)
    assert kernel.execute("print('back')").stdout.strip() == "back"


def test_an_output_flood_raises_in_the_cell_and_the_next_cell_prints(kernel):
    flood = "line = 'y' * 2**20\nfor _ in range(10**6):\n    print(line)"
    result = kernel.execute(flood, timeout_s=60)
    assert (result.status, result.error.ename) == ("error", "OutputLimitError")
    assert "MiB to stdout and stderr" in result.error.evalue and result.duration_s < 30
    after = kernel.execute("print('still here')")
    assert (after.status, after.stdout) == ("ok", "still here\n")
