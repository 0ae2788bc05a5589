"""The care table of ``rules/knowledge/care.yaml``: what makes a cancer advanced, and care items.

The table says which findings and Conditions show advanced cancer, and how a consultation,
referral or conversation is recognised in a ServiceRequest or Procedure; this module only gives
them types and the generic look-ups the fact extractor needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .fhir import Code
from .oncology import Oncology
from .text import word_pattern
from .yamlfile import RuleFileError, YamlMap


@dataclass(frozen=True)
class Recognised:
    """Codes and words that identify something in a resource's code."""

    codes: frozenset[Code] = frozenset()
    words: tuple[re.Pattern[str], ...] = ()

    def by_code(self, codes: Iterable[Code]) -> bool:
        return not self.codes.isdisjoint(codes)

    def by_words(self, texts: Iterable[str]) -> bool:
        return any(pattern.search(text) for text in texts for pattern in self.words)


@dataclass(frozen=True)
class AdvancedCancer:
    findings: Mapping[str, frozenset[str]]
    """Finding of the oncology table -> the values that mean advanced cancer."""
    profiles: frozenset[str]
    conditions: Recognised
    """Metastatic disease in a Condition's code (words only in a malignant Condition)."""


@dataclass(frozen=True)
class CareItem:
    name: str
    title: str
    recognised: Recognised


@dataclass(frozen=True)
class Care:
    advanced: AdvancedCancer
    on_file_statuses: Mapping[str, frozenset[str]]
    """Resource type -> the statuses that put an item on file."""
    items: Mapping[str, CareItem]


def load_care(doc: YamlMap, path: Path, oncology: Oncology) -> Care:
    systems = dict(doc["systems"])

    def recognised(entry: Mapping[str, Any]) -> Recognised:
        codes = entry.get("codes") or ()
        return Recognised(
            frozenset((systems.get(c["system"], c["system"]), str(c["code"])) for c in codes),
            tuple(word_pattern(w) for w in entry.get("words") or ()),
        )

    advanced = doc["advanced_cancer"]
    findings = advanced["findings"]
    for name, values in findings.items():
        _check_finding(path, findings.line_of(name), oncology, name, values)
    conditions = advanced["conditions"]
    return Care(
        advanced=AdvancedCancer(
            findings={name: frozenset(values) for name, values in findings.items()},
            profiles=frozenset(conditions.get("profiles") or ()),
            conditions=recognised(conditions),
        ),
        on_file_statuses={kind: frozenset(s) for kind, s in doc["on_file_statuses"].items()},
        items={
            name: CareItem(name, entry["title"], recognised(entry))
            for name, entry in doc["care"].items()
        },
    )


def _check_finding(
    path: Path, line: int, oncology: Oncology, name: str, values: Iterable[str]
) -> None:
    """A finding the oncology table lacks, or a value it never gives, would silently never match."""
    spec = oncology.findings.get(name)
    if spec is None:
        known = ", ".join(sorted(oncology.findings))
        message = f"advanced_cancer.findings: {name!r} is not a finding of oncology.yaml ({known})"
        raise RuleFileError(path, message, line)
    answers = set((spec.answers or {}).values())
    for value in values:
        if value not in answers:
            message = (
                f"advanced_cancer.findings.{name}: {value!r} is not a value oncology.yaml gives "
                f"for it ({', '.join(sorted(answers))})"
            )
            raise RuleFileError(path, message, line)
