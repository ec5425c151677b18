"""Bounded LRU cache of encoded replies, keyed by content, and what each query may find in it.

The key is ``protocol.perception.content_key`` (operation, parameters and pixels), which the service always
computes itself from the request it decoded, so no client can store a reply under another's key.

The cache is shared between queries for speed, but nothing about it tells one query what another sent:
a probe (the content key alone) hits only keys the same query has sent itself (:class:`SentKeys`), and
a full request answered from another query's entry is held back until as long as the original
computation took (:attr:`CachedReply.compute_s`). Its statistics stay inside the service.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

#: Most identities whose sent keys are remembered (the least recently active are forgotten first).
MAX_IDENTITIES = 1024


@dataclass(frozen=True)
class CachedReply:
    """An encoded reply and the seconds its computation took (decode to encode, on the worker)."""

    body: bytes
    compute_s: float


class ReplyCache:
    """Thread-safe LRU bounded by entry count and total bytes; 0 entries disables it."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        """Keep at most ``max_entries`` replies and ``max_bytes`` bytes of them."""
        self._entries: OrderedDict[str, CachedReply] = OrderedDict()
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> CachedReply | None:
        """The reply stored under ``key`` (now most recent), or None."""
        with self._lock:
            value = self._entries.get(key)
            if value is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: str, body: bytes, compute_s: float) -> None:
        """Store ``body``, computed in ``compute_s`` seconds; evicts least recently used replies."""
        if self._max_entries == 0 or len(body) > self._max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._entries[key] = CachedReply(body, compute_s)
            self._bytes += len(body)
            while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted.body)

    def stats(self) -> dict[str, int]:
        """Entries, bytes, hits and misses so far (for tests and logs; never sent to clients)."""
        with self._lock:
            return {
                "entries": len(self._entries),
                "bytes": self._bytes,
                "hits": self.hits,
                "misses": self.misses,
            }


class SentKeys:
    """The content keys each identity has sent, bounded per identity and in identities (LRU both)."""

    def __init__(self, max_keys_per_identity: int, max_identities: int = MAX_IDENTITIES) -> None:
        """Remember at most ``max_keys_per_identity`` keys for each of ``max_identities`` identities."""
        self._keys: OrderedDict[str, OrderedDict[str, None]] = OrderedDict()
        self._max_keys = max_keys_per_identity
        self._max_identities = max_identities
        self._lock = threading.Lock()

    def add(self, identity: str, key: str) -> None:
        """Remember that ``identity`` sent the content of ``key``."""
        if self._max_keys == 0:
            return
        with self._lock:
            keys = self._keys.pop(identity, None) or OrderedDict()
            self._keys[identity] = keys
            keys.pop(key, None)
            keys[key] = None
            while len(keys) > self._max_keys:
                keys.popitem(last=False)
            while len(self._keys) > self._max_identities:
                self._keys.popitem(last=False)

    def sent(self, identity: str, key: str) -> bool:
        """Whether ``identity`` has sent the content of ``key`` (and it is still remembered)."""
        with self._lock:
            keys = self._keys.get(identity)
            return keys is not None and key in keys

    def forget(self, identity: str) -> None:
        """Drop everything remembered of ``identity`` (its query ended)."""
        with self._lock:
            self._keys.pop(identity, None)
