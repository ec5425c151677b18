"""Bounded LRU cache of encoded replies, keyed by content.

The key is ``protocol.perception.content_key`` (operation, parameters and pixels), which the service always
computes itself from the request it decoded, so no client can store a reply under another's key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class ReplyCache:
    """Thread-safe LRU bounded by entry count and total bytes; 0 entries disables it."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        """Keep at most ``max_entries`` replies and ``max_bytes`` bytes of them."""
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> bytes | None:
        """The reply stored under ``key`` (now most recent), or None."""
        with self._lock:
            value = self._entries.get(key)
            if value is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: str, value: bytes) -> None:
        """Store ``value``, evicting the least recently used replies to stay within bounds."""
        if self._max_entries == 0 or len(value) > self._max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old)
            self._entries[key] = value
            self._bytes += len(value)
            while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted)

    def stats(self) -> dict[str, int]:
        """Entries, bytes, hits and misses so far."""
        with self._lock:
            return {
                "entries": len(self._entries),
                "bytes": self._bytes,
                "hits": self.hits,
                "misses": self.misses,
            }
