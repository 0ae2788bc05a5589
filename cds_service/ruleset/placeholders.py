"""Card text templates: ``{alias.attribute}`` placeholders, filled from the facts of a firing.

A summary must stay under 140 characters once filled (CDS Hooks). Each value put into a summary
is cut at :data:`VALUE_MAX` characters, so the longest a summary can become is known when the
rule is loaded, and a template that could overflow is refused there rather than cut in front of
a prescriber.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import fields

from ..facts import FACT_TYPES

PLACEHOLDER = re.compile(r"\{(\w+)\.(\w+)\}")
SUMMARY_MAX = 139
VALUE_MAX = 60
"""The most characters one placeholder adds to a summary (free text from the EHR is cut)."""
DOSE_PLACEHOLDERS = ("ordered", "adjusted")
DUE_PLACEHOLDERS = ("date", "weeks")
"""``{due.date}`` (YYYY-MM-DD, or :data:`DUE_UNKNOWN`) and ``{due.weeks}``, from ``due``."""
DUE_UNKNOWN = "unknown"
COMPUTED = {"dose": DOSE_PLACEHOLDERS, "due": DUE_PLACEHOLDERS}
"""Placeholders a card block computes rather than a fact fills: block name -> attributes."""
NUMBER_MAX = 8
"""``format_number`` of any dose or score below 100000: at most 8 characters."""

_FIELDS = {t.kind: {f.name for f in fields(t)} for t in FACT_TYPES}


def fill(template: str, values: Mapping[tuple[str, str], str], limit: int | None = None) -> str:
    def value(match: re.Match[str]) -> str:
        text = values[(match.group(1), match.group(2))]
        return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"

    return PLACEHOLDER.sub(value, template)


def placeholders(template: str) -> Iterator[tuple[str, str]]:
    for match in PLACEHOLDER.finditer(template):
        yield match.group(1), match.group(2)


def unknown_placeholder(alias: str, attribute: str, kinds: Mapping[str, str]) -> str | None:
    """Why ``{alias.attribute}`` cannot be filled, or None if it can.

    ``kinds`` maps each condition alias of the rule to its fact type.
    """
    if alias in COMPUTED:
        if attribute not in COMPUTED[alias]:
            return f"{{{alias}.{attribute}}}: {alias} has only {', '.join(COMPUTED[alias])}"
        return None
    if alias not in kinds:
        names = ", ".join([*kinds, *COMPUTED])
        return f"{{{alias}.{attribute}}}: no condition is called {alias!r} ({names})"
    if attribute not in _FIELDS[kinds[alias]]:
        known = ", ".join(sorted(_FIELDS[kinds[alias]]))
        return f"{{{alias}.{attribute}}}: a {kinds[alias]} fact has no {attribute!r} ({known})"
    return None


def longest(template: str, bound: Mapping[tuple[str, str], int]) -> tuple[int, str]:
    """The most characters ``template`` can fill to, and what each placeholder adds at most."""
    fixed = len(PLACEHOLDER.sub("", template))
    adds = {p: min(bound.get(p, VALUE_MAX), VALUE_MAX) for p in placeholders(template)}
    said = ", ".join(f"{{{a}.{b}}} {n}" for (a, b), n in sorted(adds.items(), key=lambda i: -i[1]))
    return fixed + sum(adds.values()), f"{fixed} of text; {said}" if said else f"{fixed} of text"
