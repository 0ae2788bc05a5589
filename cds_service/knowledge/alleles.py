"""Each gene's allele table: its alleles' functions and activities, how a pair of them makes a
phenotype, and how a lab's diplotype text is read with them.

``rules/knowledge/alleles/<GENE>.yaml`` holds one table; ``genomics.py`` loads the table of each
gene ``genomics.yaml`` names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..protocol.yamlfile import RuleFileError, line_of

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


def load_allele_table(gene: str, doc: Mapping[str, Any], path: Path) -> AlleleTable:
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
