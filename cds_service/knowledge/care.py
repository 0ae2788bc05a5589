"""The care table of ``rules/knowledge/care.yaml``: what makes a cancer advanced, and care items.

The table says which findings and Conditions show advanced cancer, which staging shows a cancer
that is not advanced, and how a consultation, referral or conversation is recognised in a
ServiceRequest or Procedure; this module only gives them types and the generic look-ups the
fact extractor needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..protocol.yamlfile import RuleFileError, YamlMap
from .concepts import Concept, concept, words
from .oncology import Oncology


@dataclass(frozen=True)
class AdvancedCancer:
    findings: Mapping[str, frozenset[str]]
    """Finding of the oncology table -> the values that mean advanced cancer."""
    profiles: frozenset[str]
    conditions: Concept
    """Metastatic disease in a Condition's code (words only in a malignant Condition)."""
    combinations: tuple[tuple[tuple[re.Pattern[str], ...], ...], ...] = ()
    """Word lists a malignant Condition's text must each match one word of (relapsed or
    refractory and a hematologic malignancy; pancreatic and locally advanced)."""

    def combined(self, texts: Iterable[str]) -> bool:
        """Whether the texts hold a word of every list of one combination."""
        texts = list(texts)
        return any(
            all(any(p.search(text) for text in texts for p in group) for group in combination)
            for combination in self.combinations
        )


ADVANCED, NOT_ADVANCED, UNKNOWN = "advanced", "not advanced", "unknown"
EXTENTS = frozenset({ADVANCED, NOT_ADVANCED, UNKNOWN})
"""How far the record shows a patient's cancer has spread: what the ``extent`` of a fact says."""


@dataclass(frozen=True)
class NotAdvanced:
    """Staging that shows a cancer is not advanced, when nothing shows it is."""

    findings: Mapping[str, frozenset[str]]
    """Finding -> values, any one of which shows it (stage group 0-III, M0)."""
    together: Mapping[str, frozenset[str]]
    """Finding -> values, all of which must be on file to show it (a T and an N category)."""


@dataclass(frozen=True)
class Care:
    advanced: AdvancedCancer
    not_advanced: NotAdvanced
    on_file_statuses: Mapping[str, frozenset[str]]
    """Resource type -> the statuses that put an item on file."""
    items: Mapping[str, Concept]


def load_care(doc: YamlMap, path: Path, oncology: Oncology) -> Care:
    systems = dict(doc["systems"])

    advanced = doc["advanced_cancer"]
    findings = advanced["findings"]
    conditions = advanced["conditions"]
    staged = doc["not_advanced"]
    checked = {"advanced_cancer.findings": findings}
    checked |= {
        f"not_advanced.{key}": staged[key] for key in ("findings", "together") if key in staged
    }
    for key, table in checked.items():
        for name, values in table.items():
            _check_finding(path, table.line_of(name), oncology, name, values, key)
    return Care(
        advanced=AdvancedCancer(
            findings=_values(findings),
            profiles=frozenset(conditions.get("profiles") or ()),
            conditions=concept("advanced", conditions, systems),
            combinations=tuple(
                tuple(words(group) for group in entry["all_of"])
                for entry in advanced.get("combinations") or ()
            ),
        ),
        not_advanced=NotAdvanced(
            findings=_values(staged.get("findings") or {}),
            together=_values(staged.get("together") or {}),
        ),
        on_file_statuses={kind: frozenset(s) for kind, s in doc["on_file_statuses"].items()},
        items={name: concept(name, entry, systems) for name, entry in doc["care"].items()},
    )


def _values(findings: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    return {name: frozenset(values) for name, values in findings.items()}


def _check_finding(
    path: Path, line: int, oncology: Oncology, name: str, values: Iterable[str], key: str
) -> None:
    """A finding the oncology table lacks, or a value it never gives, would silently never match."""
    spec = oncology.findings.get(name)
    if spec is None:
        known = ", ".join(sorted(oncology.findings))
        message = f"{key}: {name!r} is not a finding of oncology.yaml ({known})"
        raise RuleFileError(path, message, line)
    answers = set((spec.answers or {}).values())
    for value in values:
        if value not in answers:
            message = (
                f"{key}.{name}: {value!r} is not a value oncology.yaml gives "
                f"for it ({', '.join(sorted(answers))})"
            )
            raise RuleFileError(path, message, line)
