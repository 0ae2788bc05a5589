"""Finding a name in free text the way clinicians write it."""

from __future__ import annotations

import re


def word_pattern(name: str) -> re.Pattern[str]:
    """``name`` as a whole word, any case: "5-FU" in "5-FU bolus", not "DPYD" in "DPYDX"."""
    return re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])", re.I)
