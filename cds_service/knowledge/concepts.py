"""Concepts a knowledge table names by codes or words: cancer sites, procedures.

A resource is one of a table's concepts when its code is one the table lists, or, failing any
code, when one of the concept's words is in its code's text or displays. Codes win over words
across the whole table, so that a coded "Malignant tumor of colon" is never read as another
site because its text also names one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..protocol.fhir import Code
from .words import any_word, word_pattern


@dataclass(frozen=True)
class Concept:
    name: str
    codes: frozenset[Code] = frozenset()
    words: tuple[re.Pattern[str], ...] = ()
    unless: tuple[re.Pattern[str], ...] = ()
    """Words that, in the same text, undo a word's match ("lymph node" after "secondary")."""
    _any_word: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _any_unless: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_any_word", any_word(self.words))
        object.__setattr__(self, "_any_unless", any_word(self.unless))

    def by_code(self, codes: Iterable[Code]) -> bool:
        return not self.codes.isdisjoint(codes)

    def by_words(self, texts: Iterable[str]) -> bool:
        """Whether a text names one of the words and none of the words that undo them: one
        search of each text (:func:`~.words.any_word`), not one per word."""
        if self._any_word is None:
            return False
        unless = self._any_unless
        return any(
            self._any_word.search(text) and not (unless is not None and unless.search(text))
            for text in texts
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
