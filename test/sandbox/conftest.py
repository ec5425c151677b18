"""Shared fixtures of the attack corpus: one warm pool for all tests, a fresh kernel per test."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from spatialclaw_ros.sandbox import CellResult, Kernel, KernelPool, SandboxSettings

SECRET = "sk-spatialclaw-test-" + os.urandom(8).hex()
os.environ["SPATIALCLAW_TEST_API_KEY"] = SECRET

CORPUS_SETTINGS = SandboxSettings(
    launcher=os.environ.get("SPATIALCLAW_TEST_SANDBOX_LAUNCHER", "auto"),
    memory_mb=1536,
    max_file_mb=64,
    tmpfs_mb=32,
    scratch_mb=128,
    scratch_inodes=2000,
    max_processes=128,
    output_max_chars=4000,
    display_max_bytes=200_000,
    interrupt_grace_s=1.5,
)


@pytest.fixture(scope="session")
def pool() -> Iterator[KernelPool]:
    with KernelPool(CORPUS_SETTINGS, size=2) as started:
        assert started.launcher in ("bwrap", "python")
        yield started


@pytest.fixture
def kernel(pool: KernelPool) -> Iterator[Kernel]:
    """A fresh kernel; serving it proves the pool survived whatever the previous test's cell did."""
    with pool.acquire(timeout_s=60) as fresh:
        result = fresh.execute("40 + 2", timeout_s=30)
        assert result.status == "ok", result
        assert result.displays[0].data["text/plain"] == "42"
        yield fresh


@pytest.fixture(scope="session")
def host_secret_file() -> Iterator[Path]:
    """A world-readable host file holding the secret: only the sandbox's mount namespace hides it."""
    directory = Path(tempfile.mkdtemp(prefix="spatialclaw-host-"))
    directory.chmod(0o755)
    path = directory / "secret.txt"
    path.write_text(SECRET)
    path.chmod(stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)
    yield path
    path.unlink()
    directory.rmdir()


@pytest.fixture(scope="session")
def secret() -> str:
    """A secret in the test process's environment (and thus in its /proc/<pid>/environ)."""
    return SECRET


def _everything(result: CellResult) -> str:
    parts = [result.stdout, result.stderr]
    if result.error is not None:
        parts += [result.error.evalue, result.error.traceback]
    parts += [value for display in result.displays for value in display.data.values()]
    return "\n".join(parts)


@pytest.fixture(scope="session")
def everything() -> Callable[[CellResult], str]:
    """All text a cell produced (stdout, stderr, error, displays), to assert a secret appears nowhere."""
    return _everything
