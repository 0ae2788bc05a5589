"""Finding a name in free text the way clinicians write it."""

from __future__ import annotations

import re
from collections.abc import Sequence

_BEFORE, _AFTER = r"(?<![\w-])", r"(?![\w-])"
"""What may not touch a word on either side: a letter, a digit, an underscore or a hyphen."""


def word_pattern(name: str) -> re.Pattern[str]:
    """``name`` as a whole word, any case: "5-FU" in "5-FU bolus", not "DPYD" in "DPYDX"."""
    return re.compile(_BEFORE + re.escape(name) + _AFTER, re.I)


def any_word(patterns: Sequence[re.Pattern[str]]) -> re.Pattern[str] | None:
    """One pattern that finds a text where one of ``patterns`` (each :func:`word_pattern`'s)
    does, the words' edges tested once for all: a table of dozens of words is one search of a
    text, not dozens. None for none."""
    if not patterns:
        return None
    names = [p.pattern.removeprefix(_BEFORE).removesuffix(_AFTER) for p in patterns]
    for pattern, name in zip(patterns, names, strict=True):
        if pattern.pattern != _BEFORE + name + _AFTER or pattern.flags != re.I | re.U:
            raise ValueError(f"not a word pattern: {pattern.pattern!r}")
    return re.compile(_BEFORE + "(?:" + "|".join(names) + ")" + _AFTER, re.I)


def normal_text(text: str) -> str:
    """Lower case with single spaces: how a whole written answer is compared with a table's."""
    return " ".join(text.lower().split())
