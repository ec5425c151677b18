from spatialclaw_ros.perception._cache import ReplyCache


def test_least_recently_used_entry_is_evicted_first():
    cache = ReplyCache(max_entries=2, max_bytes=100)
    cache.put("a", b"1")
    cache.put("b", b"2")
    cache.get("a")
    cache.put("c", b"3")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"1", None, b"3")


def test_byte_bound_evicts_and_skips_oversized_replies():
    cache = ReplyCache(max_entries=10, max_bytes=10)
    cache.put("a", b"x" * 6)
    cache.put("b", b"y" * 6)
    cache.put("huge", b"z" * 11)
    assert cache.stats()["entries"] == 1 and cache.get("b") == b"y" * 6 and cache.get("huge") is None


def test_zero_entries_disables_the_cache():
    cache = ReplyCache(max_entries=0, max_bytes=10)
    cache.put("a", b"1")
    assert cache.get("a") is None
