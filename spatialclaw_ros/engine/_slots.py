"""How many queries run at once."""

from __future__ import annotations

import threading
import time


class QuerySlots:
    """At most ``limit`` queries at once. Waits end early when the node closes; thread-safe."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._in_use = 0
        self._closed = False
        self._condition = threading.Condition()

    @property
    def in_use(self) -> int:
        """Slots held now."""
        with self._condition:
            return self._in_use

    def try_acquire(self) -> bool:
        """Take a slot if one is free now."""
        with self._condition:
            if self._closed or self._in_use >= self.limit:
                return False
            self._in_use += 1
            return True

    def acquire(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` seconds for a slot; False on timeout or when closed."""
        deadline = time.monotonic() + timeout_s
        with self._condition:
            while not self._closed and self._in_use >= self.limit:
                remaining = deadline - time.monotonic()
                if remaining <= 0.0:
                    return False
                self._condition.wait(remaining)
            if self._closed:
                return False
            self._in_use += 1
            return True

    def release(self) -> None:
        """Give a slot back."""
        with self._condition:
            if self._in_use <= 0:
                raise RuntimeError("released a query slot that was not held")
            self._in_use -= 1
            self._condition.notify()

    def close(self) -> None:
        """Refuse new slots and wake every waiter."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()
