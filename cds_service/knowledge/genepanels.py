"""A status read from one result per gene product (``per_gene`` of a finding in oncology.yaml).

Mismatch repair is often reported as four immunohistochemistry results, one per protein (MLH1,
MSH2, MSH6, PMS2), each "intact" or "lost", rather than as one MMR status: loss of any one is
deficient (dMMR), all four intact is proficient (pMMR), and fewer than four intact says neither.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .concepts import words
from .words import normal_text, word_pattern


@dataclass(frozen=True)
class PerGene:
    genes: tuple[str, ...]
    gene_patterns: Mapping[str, re.Pattern[str]]
    method: tuple[re.Pattern[str], ...]
    """Words in the code that say how it was measured (immune stain): a variant is not read."""
    lost_codes: frozenset[str]
    lost_texts: frozenset[str]
    kept_codes: frozenset[str]
    kept_texts: frozenset[str]
    any_lost: str
    all_kept: str
    method_said: str
    """How the finding names the method ("deficient by immunohistochemistry")."""
    said: Mapping[str, str]
    """Per state (``lost``, ``kept``), the word each gene product is listed with."""

    def gene_in(self, texts: list[str]) -> str | None:
        for gene, pattern in self.gene_patterns.items():
            if any(pattern.search(t) for t in texts):
                return gene
        return None

    def measured(self, texts: list[str]) -> bool:
        return any(p.search(t) for t in texts for p in self.method)

    def state(self, codes: list[str], texts: list[str]) -> str | None:
        """``lost``, ``kept`` or None for a result neither list reads."""
        normal = {normal_text(t) for t in texts}
        if self.lost_codes & set(codes) or self.lost_texts & normal:
            return "lost"
        if self.kept_codes & set(codes) or self.kept_texts & normal:
            return "kept"
        return None


def load_per_gene(entry: Mapping[str, Any]) -> PerGene:
    return PerGene(
        genes=tuple(entry["genes"]),
        gene_patterns={g: word_pattern(g) for g in entry["genes"]},
        method=words(entry["method_words"]),
        lost_codes=frozenset(map(str, entry["lost"].get("codes") or ())),
        lost_texts=frozenset(normal_text(t) for t in entry["lost"].get("texts") or ()),
        kept_codes=frozenset(map(str, entry["kept"].get("codes") or ())),
        kept_texts=frozenset(normal_text(t) for t in entry["kept"].get("texts") or ()),
        any_lost=entry["any_lost"],
        all_kept=entry["all_kept"],
        method_said=entry["method"],
        said={state: entry[state]["said"] for state in ("lost", "kept")},
    )
