"""Knowledge tables from ``rules/knowledge/``: drugs, genomic encodings, allele activity values.

The tables are data an informaticist edits; this module only gives them types and the generic
operations the fact extractor needs (which ingredient is this order, which gene is this
coding, what does this diplotype text mean).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .yamlfile import RuleFileError, load_yaml

_GENE_SYMBOL = re.compile(r"[A-Z][A-Z0-9-]*")

Code = tuple[str, str]
"""A coding reduced to ``(system, code)``."""


@dataclass(frozen=True, slots=True)
class Allele:
    name: str
    function: str
    activity: float


@dataclass(frozen=True, slots=True)
class Diplotype:
    """A diplotype as read from a lab's text, with what the allele table says of it."""

    alleles: tuple[str, ...]
    unknown: tuple[str, ...] = ()
    activity_score: float | None = None
    phenotype: str | None = None

    @property
    def text(self) -> str:
        return "/".join(self.alleles)


@dataclass(frozen=True)
class AlleleTable:
    gene: str
    reference: str
    alleles: Mapping[str, Allele]
    """Normalised name or alias -> allele."""
    bands: tuple[tuple[float, float, str], ...]

    def interpret(self, text: str) -> Diplotype:
        """Read ``*2A/*13``, ``DPYD c.1905+1G>A/Reference`` or ``c.2846A>T heterozygous``."""
        names = self._split(text)
        found = [self._find(name) for name in names]
        if len(names) != 2 or None in found:
            unknown = tuple(n for n, a in zip(names, found, strict=True) if a is None)
            return Diplotype(tuple(names), unknown or (text.strip(),))
        alleles = [a for a in found if a is not None]
        score = sum(a.activity for a in alleles)
        return Diplotype(tuple(a.name for a in alleles), (), score, self.phenotype_for(score))

    def phenotype_for(self, score: float) -> str | None:
        for low, high, phenotype in self.bands:
            if low <= score <= high:
                return phenotype
        return None

    def _split(self, text: str) -> list[str]:
        text = text.strip()
        zygosity = re.fullmatch(r"(.+?)[\s,(]+(heterozygous|homozygous|het|hom)\)?", text, re.I)
        if zygosity:
            allele, state = zygosity.group(1), zygosity.group(2).lower()
            other = allele if state.startswith("hom") else self.reference
            return [self._strip_gene(allele), other]
        return [self._strip_gene(part) for part in text.split("/")]

    def _strip_gene(self, part: str) -> str:
        part = part.strip()
        if part.upper().startswith(self.gene):
            part = part[len(self.gene) :].lstrip(" :")
        return part

    def _find(self, name: str) -> Allele | None:
        key = _normal(name)
        if key in self.alleles:
            return self.alleles[key]
        suballele = re.fullmatch(r"(\*\w+?)\.\d{3}", key)  # PharmVar *7.001 is *7
        return self.alleles.get(suballele.group(1)) if suballele else None


@dataclass(frozen=True)
class DrugTable:
    by_code: Mapping[str, str]
    """RxNorm code -> ingredient."""
    names: tuple[tuple[re.Pattern[str], str], ...]
    """Word pattern of a name or brand -> ingredient."""
    classes: Mapping[str, tuple[str, ...]]

    @property
    def ingredients(self) -> frozenset[str]:
        return frozenset(ingredient for _, ingredient in self.names)

    def by_rxnorm(self, code: str) -> str | None:
        return self.by_code.get(code)

    def by_name(self, text: str) -> str | None:
        for pattern, ingredient in self.names:
            if pattern.search(text):
                return ingredient
        return None


@dataclass(frozen=True)
class Genomics:
    systems: Mapping[str, str]
    genotype_codes: frozenset[Code]
    phenotype_codes: frozenset[Code]
    phenotype_value_components: frozenset[Code]
    gene_components: frozenset[Code]
    medication_components: frozenset[Code]
    answer_codes: Mapping[str, str]
    answer_texts: Mapping[str, str]
    genes: Mapping[str, AlleleTable | None]
    hgnc: Mapping[str, str]
    """HGNC number without prefix -> gene symbol."""

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
        if code and code in self.answer_codes:
            return self.answer_codes[code]
        if text:
            return self.answer_texts.get(" ".join(text.lower().split()))
        return None


@dataclass(frozen=True)
class Knowledge:
    drugs: DrugTable
    genomics: Genomics


def load_knowledge(directory: Path) -> Knowledge:
    drugs_file = directory / "drugs.yaml"
    genomics_file = directory / "genomics.yaml"
    drugs_doc = load_yaml(drugs_file)
    genomics_doc = load_yaml(genomics_file)
    genes: dict[str, AlleleTable | None] = {}
    for symbol, entry in _mapping(genomics_doc, "genes", genomics_file).items():
        table_name = entry.get("alleles")
        if table_name:
            table_file = directory / table_name
            genes[symbol] = _allele_table(symbol, load_yaml(table_file), table_file)
        else:
            genes[symbol] = None
    return Knowledge(_drug_table(drugs_doc, drugs_file), _genomics(genomics_doc, genes))


def _drug_table(doc: Mapping[str, Any], path: Path) -> DrugTable:
    by_code: dict[str, str] = {}
    names: list[tuple[re.Pattern[str], str]] = []
    for ingredient, entry in _mapping(doc, "drugs", path).items():
        for code in entry.get("rxnorm", []):
            if not isinstance(code, str):
                raise RuleFileError(path, f"{ingredient}: RxNorm code {code!r} must be quoted text")
            by_code[code] = ingredient
        for name in [ingredient, *entry.get("names", [])]:
            names.append((re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])", re.I), ingredient))
    classes = {name: tuple(members) for name, members in _mapping(doc, "classes", path).items()}
    for name, members in classes.items():
        for member in members:
            if member not in _mapping(doc, "drugs", path):
                raise RuleFileError(path, f"class {name}: unknown drug {member}")
    names.sort(key=lambda item: -len(item[0].pattern))  # longest name first: "5-fluorouracil"
    return DrugTable(by_code, tuple(names), classes)


def _genomics(doc: Mapping[str, Any], genes: dict[str, AlleleTable | None]) -> Genomics:
    systems = dict(doc["systems"])

    def codes(items: Iterable[Mapping[str, str]]) -> frozenset[Code]:
        return frozenset((systems.get(i["system"], i["system"]), i["code"]) for i in items)

    answers = doc["phenotype_answers"]
    return Genomics(
        systems=systems,
        genotype_codes=codes(doc["genotype"]["codes"]),
        phenotype_codes=codes(doc["phenotype"]["codes"]),
        phenotype_value_components=codes(doc["phenotype"]["value_components"]),
        gene_components=codes(doc["gene_component"]),
        medication_components=codes(doc["medication_component"]),
        answer_codes=dict(answers["codes"]),
        answer_texts={k.lower(): v for k, v in answers["texts"].items()},
        genes=genes,
        hgnc={entry["hgnc"].removeprefix("HGNC:"): s for s, entry in doc["genes"].items()},
    )


def _allele_table(gene: str, doc: Mapping[str, Any], path: Path) -> AlleleTable:
    alleles: dict[str, Allele] = {}
    for entry in doc["alleles"]:
        allele = Allele(str(entry["name"]), entry["function"], float(entry["activity"]))
        for name in [allele.name, *map(str, entry.get("aliases", []))]:
            key = _normal(name)
            if key in alleles:
                raise RuleFileError(path, f"allele name {name!r} is listed twice")
            alleles[key] = allele
    bands = tuple((float(b["min"]), float(b["max"]), b["phenotype"]) for b in doc["phenotypes"])
    return AlleleTable(gene, doc["reference"], alleles, bands)


def _normal(name: str) -> str:
    return "".join(name.split()).lower()


def _mapping(doc: Mapping[str, Any], key: str, path: Path) -> Mapping[str, Any]:
    value = doc.get(key)
    if not isinstance(value, dict):
        raise RuleFileError(path, f"'{key}' must be a mapping")
    return value
