"""The procedures table of ``rules/knowledge/procedures.yaml``: the Procedures rules can test.

A Procedure is one of the table's procedures by its code or by words in its text
(:mod:`.concepts`), and counts as done only in one of the table's statuses. A procedure may name
findings to read against it (``follow_up``): a PSA taken after a radical prostatectomy says
whether the cancer persists, the one taken before it does not.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..protocol.fhir import Code
from ..protocol.yamlfile import RuleFileError, YamlMap
from .concepts import Concept, concept_of, load_concepts


@dataclass(frozen=True)
class Procedures:
    concepts: tuple[Concept, ...]
    statuses: frozenset[str]
    """``Procedure.status`` values that mean it was done (``completed``)."""
    follow_up: Mapping[str, frozenset[str]]
    """Finding -> the procedures it is read against."""

    @property
    def names(self) -> frozenset[str]:
        return frozenset(concept.name for concept in self.concepts)

    def procedure_of(self, codes: Iterable[Code], texts: Iterable[str]) -> str | None:
        return concept_of(self.concepts, codes, texts)


def load_procedures(doc: YamlMap, path: Path, findings: Collection[str]) -> Procedures:
    """The table; a ``follow_up`` finding the oncology table does not know is refused."""
    entries = doc["procedures"]
    follow_up: dict[str, set[str]] = {}
    for name, entry in entries.items():
        for finding in entry.get("follow_up") or ():
            if finding not in findings:
                message = (
                    f"{name}: follow_up {finding!r} is not a finding of knowledge/oncology.yaml"
                )
                raise RuleFileError(path, message, entry.line_of("follow_up"))
            follow_up.setdefault(finding, set()).add(name)
    return Procedures(
        concepts=load_concepts(entries, dict(doc["systems"])),
        statuses=frozenset(doc["statuses"]),
        follow_up={finding: frozenset(names) for finding, names in follow_up.items()},
    )
