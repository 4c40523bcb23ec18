"""Pure: the non-ASCII letters whose ``casefold`` holds ASCII letters (``ß`` -> ``ss``, ``ſ`` -> ``s``, ``K`` -> ``k``,
``ﬁ`` -> ``fi``, ``İ`` -> ``i`` + dot).

A segment compares text casefolded (``sync/segments/conditions.py``); a CRM that filters with its own lower-casing
or collation may miss a value holding one of these letters, so a pushed-down text test lets such values through.
"""

from __future__ import annotations

from functools import cache

LAST_FOLDING = 0x10000  # no letter beyond the BMP casefolds to ASCII (tests/segments/test_pushdown.py checks)


@cache
def folds_to_ascii() -> dict[str, set[str]]:
    """Each such letter, with the ASCII letters its casefold holds."""
    return {char: {part for part in char.casefold() if part.isascii()} for char in map(chr, range(0x80, LAST_FOLDING))
            if not 0xD800 <= ord(char) < 0xE000 and any(part.isascii() for part in char.casefold())}
