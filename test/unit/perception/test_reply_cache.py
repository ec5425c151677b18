from spatialclaw_ros.perception._cache import CachedReply, ReplyCache, SentKeys


def test_least_recently_used_entry_is_evicted_first():
    cache = ReplyCache(max_entries=2, max_bytes=100)
    cache.put("a", b"1", 0.1)
    cache.put("b", b"2", 0.1)
    cache.get("a")
    cache.put("c", b"3", 0.1)
    assert (cache.get("a").body, cache.get("b"), cache.get("c").body) == (b"1", None, b"3")


def test_byte_bound_evicts_and_skips_oversized_replies():
    cache = ReplyCache(max_entries=10, max_bytes=10)
    cache.put("a", b"x" * 6, 0.1)
    cache.put("b", b"y" * 6, 0.1)
    cache.put("huge", b"z" * 11, 0.1)
    assert cache.stats()["entries"] == 1 and cache.get("b").body == b"y" * 6 and cache.get("huge") is None


def test_zero_entries_disables_the_cache():
    cache = ReplyCache(max_entries=0, max_bytes=10)
    cache.put("a", b"1", 0.1)
    assert cache.get("a") is None


def test_entries_keep_their_compute_time():
    cache = ReplyCache(max_entries=1, max_bytes=10)
    cache.put("a", b"1", 2.5)
    assert cache.get("a") == CachedReply(b"1", 2.5)


def test_sent_keys_are_per_identity_and_forgotten():
    sent = SentKeys(max_keys_per_identity=2)
    sent.add("q1", "k1")
    assert sent.sent("q1", "k1") and not sent.sent("q2", "k1")
    sent.forget("q1")
    assert not sent.sent("q1", "k1")


def test_sent_keys_are_bounded_per_identity_and_in_identities():
    sent = SentKeys(max_keys_per_identity=2, max_identities=2)
    for key in ("k1", "k2", "k3"):
        sent.add("q1", key)
    sent.add("q2", "k1")
    sent.add("q3", "k1")
    assert [sent.sent("q1", key) for key in ("k1", "k2", "k3")] == [False, False, False]
    assert sent.sent("q2", "k1") and sent.sent("q3", "k1")
