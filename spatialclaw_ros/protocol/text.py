r"""Text that can cross any boundary: every string valid Unicode, so that UTF-8 can always encode it.

A Python ``str`` may hold lone surrogates (U+D800..U+DFFF): ``json.loads('"\\ud800"')``, a kernel's
output, ``surrogateescape`` decoding. UTF-8 cannot encode them, so a trace line, a VLM request or a
ROS string field holding one fails to be written. The policy at every boundary: a high surrogate
followed by a low one is the character they encode (lossless: the pair UTF-16 would have made), and
every other surrogate becomes U+FFFD REPLACEMENT CHARACTER.
"""

from __future__ import annotations

import re
from typing import Any

_PAIR_OR_LONE = re.compile("[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]")


def clean_text(text: str) -> str:
    r"""``text`` with surrogate pairs joined and lone surrogates replaced by U+FFFD; itself when clean.

    >>> clean_text("a\ud800b") == "a\ufffdb"
    True
    >>> clean_text("\ud83d\ude00") == "\U0001f600"
    True
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")  # C speed; only surrogates fail
    except UnicodeEncodeError:
        return _PAIR_OR_LONE.sub(_replaced, text)
    return text


def utf8(text: str) -> bytes:
    """The UTF-8 bytes of :func:`clean_text` of ``text`` (encoded once when it is clean)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _PAIR_OR_LONE.sub(_replaced, text).encode("utf-8")


def clean_value(value: Any) -> Any:
    """``value`` with :func:`clean_text` applied to every string in it (dict keys too).

    Dicts, lists and tuples are rebuilt as dicts, lists and tuples; every other value is returned as is.
    """
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_value(key): clean_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        items = [clean_value(item) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return value


def _replaced(match: re.Match[str]) -> str:
    """The character a high and a low surrogate encode in UTF-16; U+FFFD for a lone one."""
    units = match.group()
    if len(units) == 1:
        return "\ufffd"
    return chr(0x10000 + ((ord(units[0]) - 0xD800) << 10) + (ord(units[1]) - 0xDC00))
