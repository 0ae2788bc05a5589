"""The genomics tables: how genomic results are coded in FHIR, and which genes the rules know.

``rules/knowledge/genomics.yaml`` says which Observation codes are genotypes and phenotypes, how
answers read, which genes the rules know, the genes that act together and the enzyme activities
read as phenotypes. Each gene that names an allele table beside it gets it loaded
(``alleles.py``, which reads a lab's diplotype text with it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..protocol.fhir import Code
from ..protocol.yamlfile import RuleFileError, YamlMap, line_of, load_yaml
from .activity import Activity, activity_problem, load_activity
from .alleles import AlleleTable, load_allele_table
from .words import normal_text

_GENE_SYMBOL = re.compile(r"[A-Z][A-Z0-9-]*")


@dataclass(frozen=True)
class GeneGroup:
    """Genes whose phenotypes act together on one drug family (TPMT and NUDT15)."""

    name: str
    genes: tuple[str, ...]
    reduced: tuple[str, ...]
    """Reduced-function phenotypes, most severe first."""


@dataclass(frozen=True)
class Genomics:
    systems: Mapping[str, str]
    genotype_codes: frozenset[Code]
    phenotype_codes: frozenset[Code]
    phenotype_value_components: frozenset[Code]
    gene_components: frozenset[Code]
    answer_codes: Mapping[str, str]
    answer_texts: Mapping[str, str]
    genes: Mapping[str, AlleleTable | None]
    hgnc: Mapping[str, str]
    """HGNC number without prefix -> gene symbol."""
    code_genes: Mapping[Code, str] = field(default_factory=dict)
    """Gene-specific phenotype codes (LOINC 79713-4 is TPMT) -> gene symbol."""
    test_order_statuses: frozenset[str] = frozenset()
    groups: tuple[GeneGroup, ...] = ()
    activities: tuple[Activity, ...] = ()
    """Enzyme activity results read as a phenotype of their gene (G6PD)."""

    def activity_of(self, codes: list[Code]) -> Activity | None:
        return next((a for a in self.activities if a.codes & set(codes)), None)

    def gene_of(self, system: str | None, code: str | None, display: str | None) -> str | None:
        """The gene symbol of a coding; HGNC ids with and without the ``HGNC:`` prefix.

        A gene the tables do not list keeps its symbol (or its HGNC id): it is still a gene.
        """
        number = code.removeprefix("HGNC:") if code and system == self.systems["hgnc"] else None
        if number in self.hgnc:
            return self.hgnc[number]
        for candidate in (display, code):
            if candidate and _GENE_SYMBOL.fullmatch(candidate.strip()):
                return candidate.strip()
        return f"HGNC:{number}" if number else None

    def phenotype_of(self, code: str | None, text: str | None) -> str | None:
        """The phenotype of an answer code or text; "CYP2C19 Rapid Metabolizer" reads too."""
        if code and code in self.answer_codes:
            return self.answer_codes[code]
        if not text:
            return None
        key = normal_text(text)
        without_gene = key.partition(" ")[2]
        return self.answer_texts.get(key) or self.answer_texts.get(without_gene)


def load_genomics(doc: YamlMap, path: Path) -> Genomics:
    """The genomics table, with the allele table of each gene that names one (beside it)."""
    genes: dict[str, AlleleTable | None] = {}
    for symbol, entry in doc["genes"].items():
        table_name = entry.get("alleles")
        if table_name:
            table_file = path.parent / table_name
            if not table_file.is_file():
                line = entry.line_of("alleles") if isinstance(entry, YamlMap) else None
                raise RuleFileError(path, f"{symbol}: no allele table {table_name}", line)
            genes[symbol] = load_allele_table(symbol, load_yaml(table_file), table_file)
        else:
            genes[symbol] = None
    return _genomics(doc, genes, path)


def _genomics(doc: Mapping[str, Any], genes: dict[str, AlleleTable | None], path: Path) -> Genomics:
    systems = dict(doc["systems"])

    def system(item: Mapping[str, str]) -> str:
        return systems.get(item["system"], item["system"])

    def codes(items: Iterable[Mapping[str, str]]) -> frozenset[Code]:
        return frozenset((system(i), i["code"]) for i in items)

    answers = doc["phenotype_answers"]
    groups = []
    for name, entry in (doc.get("groups") or {}).items():
        unknown = [g for g in entry["genes"] if g not in genes]
        if unknown:
            message = f"group {name}: unknown gene {unknown[0]}"
            raise RuleFileError(path, message, line_of(entry, "genes"))
        groups.append(GeneGroup(name, tuple(entry["genes"]), tuple(entry["reduced"])))
    activities = []
    for entry in doc.get("activity") or ():
        reason = activity_problem(entry, genes)
        if reason:
            raise RuleFileError(path, f"activity {entry['gene']}: {reason}", line_of(entry, "gene"))
        activities.append(load_activity(entry, codes(entry["codes"])))
    return Genomics(
        systems=systems,
        genotype_codes=codes(doc["genotype"]["codes"]),
        phenotype_codes=codes(doc["phenotype"]["codes"]),
        phenotype_value_components=codes(doc["phenotype"]["value_components"]),
        gene_components=codes(doc["gene_component"]),
        answer_codes=dict(answers["codes"]),
        answer_texts={normal_text(k): v for k, v in answers["texts"].items()},
        genes=genes,
        hgnc={entry["hgnc"].removeprefix("HGNC:"): s for s, entry in doc["genes"].items()},
        code_genes={
            (system(i), i["code"]): i["gene"] for i in doc["phenotype"]["codes"] if i.get("gene")
        },
        test_order_statuses=frozenset(doc.get("test_order_statuses") or ()),
        groups=tuple(groups),
        activities=tuple(activities),
    )
