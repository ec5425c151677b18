"""ROS_DOMAIN_IDs claimed by file locks, so that parallel tests and benches on one machine never share one."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

DOMAIN_LOCK_DIR = Path("/tmp/spatialclaw-ros-domains")
DOMAIN_IDS = range(1, 101)


def claim_domain_id() -> tuple[int, IO[str]]:
    """Lock a free ROS_DOMAIN_ID of :data:`DOMAIN_IDS`; it stays claimed until the returned handle closes."""
    DOMAIN_LOCK_DIR.mkdir(parents=True, exist_ok=True)
    for domain_id in DOMAIN_IDS:
        handle = (DOMAIN_LOCK_DIR / f"{domain_id}.lock").open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        return domain_id, handle
    raise RuntimeError(f"no free ROS_DOMAIN_ID: all of {DOMAIN_IDS} are locked in {DOMAIN_LOCK_DIR}")


@contextmanager
def own_domain_id() -> Iterator[int]:
    """A ROS_DOMAIN_ID claimed for the duration of the block (e.g. for one child process)."""
    domain_id, handle = claim_domain_id()
    try:
        yield domain_id
    finally:
        handle.close()
