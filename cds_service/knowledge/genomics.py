"""The genomics tables: how genomic results are coded in FHIR, and each gene's alleles.

``rules/knowledge/genomics.yaml`` says which Observation codes are genotypes and phenotypes, how
answers read and which genes the rules know; ``rules/knowledge/alleles/<GENE>.yaml`` gives each
allele's function and activity and how a pair of them makes a phenotype. This module gives them
types and reads a lab's diplotype text with them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..protocol.fhir import Code
from ..protocol.yamlfile import RuleFileError, YamlMap, line_of, load_yaml
from .activity import Activity, activity_problem, load_activity
from .words import normal_text

_GENE_SYMBOL = re.compile(r"[A-Z][A-Z0-9-]*")


INDETERMINATE = "Indeterminate"


@dataclass(frozen=True, slots=True)
class Allele:
    name: str
    function: str
    activity: float | None = None
    copies: int = 1
    at_least: bool = False
    """``copies`` is a floor: ``*2xN`` (a duplication, N not measured) or ``*1x≥3``."""
    tandem: bool = False
    """Two gene units on one chromosome (``*36+*10``): ``activity`` is their sum."""

    @property
    def label(self) -> str:
        if not self.at_least:
            return self.name if self.copies == 1 else f"{self.name}x{self.copies}"
        return f"{self.name}xN" if self.copies == 2 else f"{self.name}x≥{self.copies}"


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
class Notation:
    """How a gene's results are written beyond ``*A/*B`` (HLA typings), from the allele table.

    ``prefixes`` are gene names written before an allele (``HLA-B*58:01``, ``B*58:01``);
    ``drop`` patterns are removed first (a GL String's namespace and version); ``chromosomes``
    joins the two alleles of a genotype, after which ``/`` lists alternatives that must agree
    (GL String); ``fields`` truncates all-numeric names to that many fields (``*58:01:01:01`` is
    ``*58:01``); ``other`` gives a function to any other allele of that pattern; ``stated``
    reads a whole result stated for one allele (``*58:01 positive``) to a phenotype.
    """

    prefixes: tuple[str, ...] = ()
    drop: tuple[re.Pattern[str], ...] = ()
    chromosomes: str | None = None
    fields: int | None = None
    other: tuple[re.Pattern[str], str] | None = None
    stated: tuple[tuple[re.Pattern[str], str], ...] = ()


@dataclass(frozen=True)
class AlleleTable:
    """One gene's alleles and how a pair of them gives a phenotype.

    Genes with activity values (DPYD, CYP2D6) sum them into an activity score read against
    ``bands``; genes with functions only (TPMT, NUDT15, UGT1A1) look the pair of functions up in
    ``function_phenotypes``. ``inhibitor_factors`` says what an inhibitor of each strength does
    to the activity score (phenoconversion).
    """

    gene: str
    reference: str
    alleles: Mapping[str, Allele]
    """Normalised name or alias -> allele."""
    bands: tuple[tuple[float, float, str], ...] = ()
    function_phenotypes: Mapping[frozenset[str], str] = field(default_factory=dict)
    inhibitor_factors: Mapping[str, float] = field(default_factory=dict)
    hemizygous: Mapping[str, str] = field(default_factory=dict)
    """Function of a single allele -> phenotype, for an X-linked gene (G6PD) in a male."""
    unphased: str | None = None
    """For a gene whose guideline reads two variants reported heterozygous apart as on different
    chromosomes: what the card says of that assumption. None: such reports are not combined."""
    notation: Notation = field(default_factory=Notation)

    def interpret(self, text: str) -> Diplotype:
        """Read ``*2A/*13``, ``DPYD c.1905+1G>A/Reference``, ``*1/*2x2`` or ``*28 homozygous``.

        A gene with ``hemizygous`` phenotypes also reads one allele alone (``A-``, ``A-
        hemizygous``): an X-linked gene in a male carries one copy.
        """
        for pattern in self.notation.drop:
            text = pattern.sub("", text)
        stated = self._stated(text)
        if stated is not None:
            return stated
        names = self._split(text)
        found = [self._find(name) for name in names]
        single = found[0] if len(found) == 1 else None
        if single is not None and single.function in self.hemizygous:
            return Diplotype((single.label,), (), None, self.hemizygous[single.function])
        if len(names) != 2 or None in found:
            unknown = tuple(n for n, a in zip(names, found, strict=True) if a is None)
            return Diplotype(tuple(names), unknown or (text.strip(),))
        alleles = [a for a in found if a is not None]
        labels = tuple(a.label for a in alleles)
        if self.bands:
            return self._scored(labels, alleles)
        if any(a.copies != 1 or a.at_least or a.tandem for a in alleles):
            return Diplotype(labels, (), None, INDETERMINATE)
        pair = frozenset(a.function for a in alleles)
        return Diplotype(labels, (), None, self.function_phenotypes.get(pair, INDETERMINATE))

    def _scored(self, labels: tuple[str, ...], alleles: list[Allele]) -> Diplotype:
        """The activity score and its band; with a copy number known only as a floor, the band
        only if every larger number gives the same one (the score itself is then not known)."""
        if any(a.activity is None for a in alleles):
            return Diplotype(labels, (), None, INDETERMINATE)
        score = sum((a.activity or 0.0) * a.copies for a in alleles)
        phenotype = self.phenotype_for(score)
        if not any(a.at_least and a.activity for a in alleles):
            return Diplotype(labels, (), score, phenotype)
        highest = max(self.bands, key=lambda band: band[1])[2]  # more copies only raise it
        return Diplotype(labels, (), None, phenotype if phenotype == highest else INDETERMINATE)

    def phenotype_for(self, score: float) -> str | None:
        for low, high, phenotype in self.bands:
            if low <= score <= high:
                return phenotype
        return None

    def _stated(self, text: str) -> Diplotype | None:
        """A result stated for one allele (``HLA-B*58:01 positive``), not a typing."""
        key = " ".join(self._strip_gene(text).split())
        for pattern, phenotype in self.notation.stated:
            if pattern.fullmatch(key):
                return Diplotype((key,), (), None, phenotype)
        return None

    def _split(self, text: str) -> list[str]:
        text = text.strip()
        joiner = self.notation.chromosomes
        if joiner and joiner in text:  # GL String: "+" between chromosomes, "/" alternatives
            return [self._strip_gene(part) for part in text.split(joiner)]
        leading = re.fullmatch(
            r"(heterozygous|homozygous|hemizygous)(?:\s+for)?\s+(.+)", text, re.I
        )
        if leading:  # "heterozygous for c.1905+1G>A"
            text = f"{leading.group(2)} {leading.group(1)}"
        zygosity = re.fullmatch(
            r"(.+?)[\s,(]+(heterozygous|homozygous|hemizygous|het|hom|hemi)\)?", text, re.I
        )
        if zygosity:
            allele, state = zygosity.group(1), zygosity.group(2).lower()
            if state.startswith("hemi"):
                return [self._strip_gene(allele)]
            allele = self._strip_gene(allele)
            return [allele, allele if state.startswith("hom") else self.reference]
        return [self._strip_gene(part) for part in text.split("/")]

    def _strip_gene(self, part: str) -> str:
        part = part.strip()
        for prefix in (self.gene, *self.notation.prefixes):
            if part.upper().startswith(prefix.upper()):
                rest = part[len(prefix) :]
                if not rest or rest[0] in " :*":
                    return rest.lstrip(" :")
        return part

    def _find(self, name: str) -> Allele | None:
        if "/" in name and self.notation.chromosomes:  # alternatives of one chromosome
            options = [self._find(self._strip_gene(o)) for o in name.split("/")]
            functions = {o.function for o in options if o is not None}
            agree = None not in options and len(functions) == 1
            return options[0] if agree else None
        key = re.sub(r"^nm_\d+(\.\d+)?:", "", _normal(name))  # NM_000110.4:c.1905+1G>A
        named = re.fullmatch(r"(.+?)\((.+)\)", key)  # "c.1905+1G>A (*2A)": either name
        if named and key not in self.alleles:
            return self._find(named.group(1)) or self._find(named.group(2))
        if key in self.alleles:
            return self.alleles[key]
        tandem = re.fullmatch(r"\*[^+]+(\+\*[^+]+)+", key)  # *36+*10: two units, one chromosome
        if tandem:
            return self._tandem(key.split("+"))
        copies = re.fullmatch(r"(.+?)x([2-9])", key)  # *1x2: two copies on one chromosome
        if copies:
            single = self._find(copies.group(1))
            return replace(single, copies=int(copies.group(2))) if single else None
        floor = re.fullmatch(r"(.+?)x(n|≥3|>=3|3\+)", key)  # *2xN: at least 2; *1x≥3: at least 3
        if floor:
            single = self._find(floor.group(1))
            least = 2 if floor.group(2) == "n" else 3
            return replace(single, copies=least, at_least=True) if single else None
        suballele = re.fullmatch(r"(\*\w+?)\.\d{3}", key)  # PharmVar *7.001 is *7
        if suballele:
            return self.alleles.get(suballele.group(1))
        return self._by_fields(key)

    def _by_fields(self, key: str) -> Allele | None:
        """An HLA name at a higher resolution than the table's, or another allele of the gene."""
        fields, other = self.notation.fields, self.notation.other
        numeric = re.fullmatch(r"\*?\d+(:\d+)+", key)
        if fields and numeric and key.count(":") >= fields:
            key = ":".join(key.split(":")[:fields])
            if key in self.alleles:
                return self.alleles[key]
        if other and other[0].fullmatch(key):
            return Allele(key, other[1])
        return None

    def _tandem(self, parts: list[str]) -> Allele | None:
        """``*36+*10`` (PharmVar, CPIC): the units' activities add up; the function is that of
        the most active unit (``*36`` no function + ``*10`` decreased is decreased)."""
        units = [self._find(part) for part in parts]
        if any(u is None or u.at_least for u in units):
            return None
        found = [u for u in units if u is not None]
        activities = [u.activity for u in found]
        known = [a * u.copies for a, u in zip(activities, found, strict=True) if a is not None]
        activity = sum(known) if len(known) == len(found) else None
        strongest = max(found, key=lambda u: (u.activity or 0.0) * u.copies)
        name = "+".join(u.label for u in found)
        return Allele(name, strongest.function, activity, tandem=True)


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
            genes[symbol] = _allele_table(symbol, load_yaml(table_file), table_file)
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


def _allele_table(gene: str, doc: Mapping[str, Any], path: Path) -> AlleleTable:
    alleles: dict[str, Allele] = {}
    bands = tuple(
        (float(b["min"]), float(b["max"]), b["phenotype"]) for b in doc.get("phenotypes") or ()
    )
    pairs = {
        frozenset(entry["functions"]): entry["phenotype"]
        for entry in doc.get("function_phenotypes") or ()
    }
    for entry in doc["alleles"]:
        activity = entry.get("activity")
        if bands and activity is None:
            message = (
                f"allele {entry['name']}: needs an activity value, because this table gives "
                "the phenotype by activity-score bands ('phenotypes')"
            )
            raise RuleFileError(path, message, line_of(entry, "name"))
        allele = Allele(
            str(entry["name"]), entry["function"], None if activity is None else float(activity)
        )
        for name in [allele.name, *map(str, entry.get("aliases", []))]:
            key = _normal(name)
            if key in alleles:
                raise RuleFileError(
                    path, f"allele name {name!r} is listed twice", line_of(entry, "name")
                )
            alleles[key] = allele
    factors = {str(k): float(v) for k, v in (doc.get("inhibitor_factors") or {}).items()}
    hemizygous = {e["function"]: e["phenotype"] for e in doc.get("hemizygous_phenotypes") or ()}
    unphased = doc.get("unphased_heterozygous")
    table = AlleleTable(
        gene, doc["reference"], alleles, bands, pairs, factors, hemizygous, unphased
    )
    return replace(table, notation=_notation(doc.get("notation") or {}))


def _notation(entry: Mapping[str, Any]) -> Notation:
    other = entry.get("other")
    return Notation(
        prefixes=tuple(entry.get("prefixes") or ()),
        drop=tuple(re.compile(p, re.I) for p in entry.get("drop") or ()),
        chromosomes=entry.get("chromosomes"),
        fields=entry.get("fields"),
        other=(re.compile(other["pattern"], re.I), other["function"]) if other else None,
        stated=tuple(
            (re.compile(s["pattern"], re.I), s["phenotype"]) for s in entry.get("stated") or ()
        ),
    )


def _normal(name: str) -> str:
    return "".join(name.split()).lower()
