from spatialclaw_ros.sandbox._results import CappedText, cap_text


def test_short_text_is_kept_whole():
    assert cap_text("hello\nworld", 100) == ("hello\nworld", False)


def test_long_text_keeps_head_and_tail_with_marker():
    text, cut = cap_text("a" * 50 + "b" * 100 + "c" * 50, 100)
    assert cut
    assert text.startswith("a" * 50)
    assert text.endswith("c" * 50)
    assert "[... 100 characters cut ...]" in text


def test_streamed_chunks_match_single_append():
    capped = CappedText(64)
    for i in range(10_000):
        capped.append(f"{i}\n")
    whole, _ = cap_text("".join(f"{i}\n" for i in range(10_000)), 64)
    assert capped.text() == whole
    assert capped.truncated


def test_kept_characters_never_exceed_the_cap():
    capped = CappedText(10)
    for _ in range(1000):
        capped.append("x" * 7)
    kept = capped.text().replace("\n[... 6990 characters cut ...]\n", "")
    assert len(kept) == 10
