"""Concepts a knowledge table names by codes or words: cancer sites, procedures.

A resource is one of a table's concepts when its code is one the table lists, or, failing any
code, when one of the concept's words is in its code's text or displays. Codes win over words
across the whole table, so that a coded "Malignant tumor of colon" is never read as another
site because its text also names one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..protocol.fhir import Code
from .words import word_pattern


@dataclass(frozen=True)
class Concept:
    name: str
    codes: frozenset[Code] = frozenset()
    words: tuple[re.Pattern[str], ...] = ()
    unless: tuple[re.Pattern[str], ...] = ()
    """Words that, in the same text, undo a word's match ("lymph node" after "secondary")."""

    def by_code(self, codes: Iterable[Code]) -> bool:
        return not self.codes.isdisjoint(codes)

    def by_words(self, texts: Iterable[str]) -> bool:
        return any(
            pattern.search(text) and not any(other.search(text) for other in self.unless)
            for text in texts
            for pattern in self.words
        )


def concept_of(
    concepts: Sequence[Concept], codes: Iterable[Code], texts: Iterable[str]
) -> str | None:
    """The name of the first concept with one of ``codes``, else the first naming a word."""
    codes, texts = set(codes), list(texts)
    for concept in concepts:
        if concept.by_code(codes):
            return concept.name
    for concept in concepts:
        if concept.by_words(texts):
            return concept.name
    return None


def load_concepts(entries: Mapping[str, Any], systems: Mapping[str, str]) -> tuple[Concept, ...]:
    """``{name: {codes: [{system, code}], words: [...]}}``, systems by their table alias."""
    return tuple(concept(name, entry, systems) for name, entry in entries.items())


def concept(name: str, entry: Mapping[str, Any], systems: Mapping[str, str]) -> Concept:
    """One ``{codes: [{system, code}], words: [...], unless: [...]}`` entry (systems by alias)."""
    return Concept(
        name,
        frozenset(codes(entry.get("codes") or (), systems)),
        words(entry.get("words")),
        words(entry.get("unless")),
    )


def codes(items: Iterable[Mapping[str, str]], systems: Mapping[str, str]) -> tuple[Code, ...]:
    return tuple((systems.get(i["system"], i["system"]), str(i["code"])) for i in items)


def words(names: Iterable[str] | None) -> tuple[re.Pattern[str], ...]:
    return tuple(word_pattern(w) for w in names or ())
