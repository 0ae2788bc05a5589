"""Finding a name in free text the way clinicians write it."""

from __future__ import annotations

import re


def word_pattern(name: str) -> re.Pattern[str]:
    """``name`` as a whole word, any case: "5-FU" in "5-FU bolus", not "DPYD" in "DPYDX"."""
    return re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])", re.I)


def normal_text(text: str) -> str:
    """Lower case with single spaces: how a whole written answer is compared with a table's."""
    return " ".join(text.lower().split())
