"""The biomarker table of ``rules/knowledge/biomarkers.yaml``: variants, biomarkers, requirements.

The table says how a genomic variant Observation is read (component and answer codes), how each
biomarker is recognised (a variant's gene and change, or an oncology finding's value), where it
is actionable and with which drugs, and which drugs are given only with it. This module gives it
types, checks its names against the other tables, and offers the generic look-ups the fact
extractor needs; no biomarker, gene or drug is named here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..protocol.fhir import Code
from ..protocol.yamlfile import RuleFileError, YamlMap
from .words import word_pattern


def normal_code(system: str | None, code: str | None) -> Code:
    """``(system, code)`` with the system's trailing "/" dropped (mCODE writes SO with one)."""
    return (system or "").rstrip("/"), code or ""


@dataclass(frozen=True)
class VariantCodes:
    """How a Genomics Reporting variant Observation, and what interprets it, is coded."""

    codes: frozenset[Code]
    present: frozenset[str]
    absent: frozenset[str]
    gene: frozenset[Code]
    change: frozenset[Code]
    type: frozenset[Code]
    origin: frozenset[Code]
    significance: frozenset[Code]
    location: frozenset[Code]
    """Where a variant lies (reference sequence, coordinates, cytogenetic band): one that says
    where but names no gene is a finding by position, which no biomarker here reads."""
    origins: Mapping[str, str]
    """Answer code -> ``germline`` or ``somatic``."""
    significances: Mapping[str, str]
    """Answer code -> ``pathogenic``, ``likely pathogenic``...; displays are read as text too."""
    interpretations: frozenset[Code]
    """Observations derived from a variant that carry its clinical significance."""


@dataclass(frozen=True)
class ImplicationCodes:
    """A lab's therapeutic implication: its code, the drug and response components."""

    codes: frozenset[Code]
    medication: frozenset[Code]
    response: frozenset[Code]
    responsive: frozenset[str]


@dataclass(frozen=True)
class VariantMatch:
    """The variants that are a biomarker: a gene, and a change, a change type or a significance."""

    genes: frozenset[str]
    changes: tuple[re.Pattern[str], ...] = ()
    type_codes: frozenset[Code] = frozenset()
    type_words: tuple[re.Pattern[str], ...] = ()
    partners: bool = False
    """A variant naming one of the genes and another gene is a fusion."""
    significance: frozenset[str] = frozenset()
    """The clinical significance the variant needs (BRCA: pathogenic or likely pathogenic)."""

    @property
    def specific(self) -> bool:
        """Whether only some variants of the genes are the biomarker (a change or a type)."""
        return bool(self.changes or self.type_codes or self.type_words or self.partners)


@dataclass(frozen=True)
class Reported:
    """Words in a finding's result as sent, and what they mean for the biomarker."""

    pattern: re.Pattern[str]
    status: str
    category: str | None = None


@dataclass(frozen=True)
class FindingMatch:
    """A biomarker read from an oncology finding: its answers, or a number from a threshold."""

    name: str
    present: frozenset[str] = frozenset()
    negative: frozenset[str] = frozenset()
    at_least: float | None = None
    reported: tuple[Reported, ...] = ()


@dataclass(frozen=True)
class Therapy:
    """Drugs matched to a biomarker at some cancer sites (all when ``sites`` is None)."""

    drugs: tuple[str, ...]
    source: str
    sites: frozenset[str] | None = None
    excluded: frozenset[str] = frozenset()
    origin: str | None = None
    advanced_only: bool = False
    """Labelled only for advanced disease (unresectable or metastatic), at any stage when False."""
    unless: frozenset[str] = frozenset()
    """Biomarkers whose presence takes the label away (olaparib in breast: HER2-negative only)."""

    def applies(self, site: str, origins: Iterable[str]) -> bool:
        """Whether it is matched at ``site`` for variants of these origins (none stated: yes)."""
        origins = set(origins)
        in_site = (self.sites is None or site in self.sites) and site not in self.excluded
        return in_site and (self.origin is None or not origins or self.origin in origins)


@dataclass(frozen=True)
class Biomarker:
    name: str
    title: str
    therapies: tuple[Therapy, ...]
    variant: VariantMatch | None = None
    finding: FindingMatch | None = None
    ordered_when: tuple[re.Pattern[str], ...] = ()


@dataclass(frozen=True)
class Requirement:
    """Drugs given only with one of ``biomarkers`` at ``sites`` (any site when None)."""

    drugs: frozenset[str]
    biomarkers: tuple[str, ...]
    sites: frozenset[str] | None = None
    excluded: frozenset[str] = frozenset()
    """Sites where another requirement for the same drug applies (BRAF V600K in melanoma)."""
    origin: str | None = None
    """``germline`` when the label needs a germline variant (a somatic one does not do)."""
    separate: bool = False
    """The biomarkers are separate indications (ALK or ROS1): a negative result for one does
    not answer another, so an untested one ranks above it. Otherwise they are readings of one
    property (MSI-H or dMMR) and a negative one answers for all."""

    def sites_here(self, sites: Iterable[str]) -> list[str] | None:
        """The patient's sites this applies to; None when it applies wherever the cancer is."""
        if self.sites is None and not self.excluded:
            return None
        return [
            s for s in sites if (self.sites is None or s in self.sites) and s not in self.excluded
        ]


@dataclass(frozen=True)
class Biomarkers:
    hgnc: Mapping[str, str]
    """HGNC number without prefix -> gene symbol, for the genes the biomarkers name."""
    variants: VariantCodes
    implications: ImplicationCodes
    biomarkers: Mapping[str, Biomarker]
    requirements: tuple[Requirement, ...]

    def requirements_for(self, ingredient: str) -> Iterable[Requirement]:
        return (r for r in self.requirements if ingredient in r.drugs)

    def of_gene(self, gene: str | None) -> str | None:
        """The first biomarker read from variants of ``gene``, if any."""
        return next(
            (b.name for b in self.biomarkers.values() if b.variant and gene in b.variant.genes),
            None,
        )


def load_biomarkers(
    doc: YamlMap,
    path: Path,
    *,
    drugs: frozenset[str],
    classes: Mapping[str, tuple[str, ...]],
    sites: frozenset[str],
    findings: frozenset[str],
) -> Biomarkers:
    """The table, with every drug, class, site, finding and biomarker name checked."""
    systems = dict(doc["systems"])

    def codes(items: Iterable[Mapping[str, str]]) -> frozenset[Code]:
        found = (normal_code(systems.get(i["system"], i["system"]), i["code"]) for i in items)
        return frozenset(found)

    def known(
        names: Iterable[str], allowed: Iterable[str], what: str, where: YamlMap, key: str
    ) -> None:
        """Refuse, with its line and the names allowed, a name another table does not know."""
        allowed = sorted(set(allowed))
        for name in names:
            if name not in allowed:
                shown = ", ".join(allowed[:20]) + (
                    f" and {len(allowed) - 20} more" * (len(allowed) > 20)
                )
                message = f"{key}: {name!r} is not {what} ({shown})"
                raise RuleFileError(path, message, where.line_of(key))

    def drug_list(entry: YamlMap) -> tuple[str, ...]:
        known(entry["drugs"], drugs | set(classes), "a drug or class of drugs.yaml", entry, "drugs")
        return tuple(dict.fromkeys(d for n in entry["drugs"] for d in classes.get(n, (n,))))

    def pattern(entry: YamlMap, key: str, text: str) -> re.Pattern[str]:
        try:
            return re.compile(text, re.I)
        except re.error as error:
            message = f"{key}: {text!r} is not a regular expression ({error})"
            raise RuleFileError(path, message, entry.line_of(key)) from None

    def site_set(entry: YamlMap, key: str) -> frozenset[str] | None:
        if key not in entry:
            return None
        known(entry[key], sites, "a cancer site of oncology.yaml", entry, key)
        return frozenset(entry[key])

    genes = dict(doc["genes"])
    variants = doc["variants"]
    components = variants["components"]
    implications = doc["implications"]
    table: dict[str, Biomarker] = {}
    for entry in doc["biomarkers"].values():
        for therapy in entry["therapies"]:
            if "unless" in therapy:
                known(
                    therapy["unless"],
                    doc["biomarkers"],
                    "a biomarker of this table",
                    therapy,
                    "unless",
                )
    for name, entry in doc["biomarkers"].items():
        variant, finding = entry.get("variant"), entry.get("finding")
        if variant:
            known(variant["genes"], genes, "a gene of this table's genes", variant, "genes")
        if finding:
            known([finding["name"]], findings, "a finding of oncology.yaml", finding, "name")
        table[name] = Biomarker(
            name=name,
            title=entry["title"],
            therapies=tuple(
                Therapy(
                    drugs=drug_list(therapy),
                    source=therapy["source"],
                    sites=site_set(therapy, "sites"),
                    excluded=site_set(therapy, "except") or frozenset(),
                    origin=therapy.get("origin"),
                    advanced_only=therapy.get("extent") == "advanced",
                    unless=frozenset(therapy.get("unless") or ()),
                )
                for therapy in entry["therapies"]
            ),
            variant=_variant_match(variant, codes, pattern) if variant else None,
            finding=_finding_match(finding, pattern) if finding else None,
            ordered_when=tuple(word_pattern(w) for w in entry.get("ordered_when") or ()),
        )
    requirements = []
    for entry in doc["requirements"]:
        known(entry["drugs"], drugs, "a drug of drugs.yaml", entry, "drugs")
        known(entry["biomarkers"], table, "a biomarker of this table", entry, "biomarkers")
        requirements.append(
            Requirement(
                drugs=frozenset(entry["drugs"]),
                biomarkers=tuple(entry["biomarkers"]),
                sites=site_set(entry, "sites"),
                excluded=site_set(entry, "except") or frozenset(),
                origin=entry.get("origin"),
                separate=bool(entry.get("separate")),
            )
        )
    return Biomarkers(
        hgnc={hgnc.removeprefix("HGNC:"): symbol for symbol, hgnc in genes.items()},
        variants=VariantCodes(
            codes=codes(variants["codes"]),
            present=frozenset(variants["present"]),
            absent=frozenset(variants["absent"]),
            gene=codes(components["gene"]),
            change=codes(components["change"]),
            type=codes(components["type"]),
            origin=codes(components["origin"]),
            significance=codes(components["significance"]),
            location=codes(components["location"]),
            origins=dict(variants["origins"]),
            significances=dict(variants["significances"]),
            interpretations=codes(variants["interpretations"]),
        ),
        implications=ImplicationCodes(
            codes=codes(implications["codes"]),
            medication=codes(implications["medication"]),
            response=codes(implications["response"]),
            responsive=frozenset(implications["responsive"]),
        ),
        biomarkers=table,
        requirements=tuple(requirements),
    )


def _variant_match(entry: YamlMap, codes: Callable, pattern: Callable) -> VariantMatch:
    types = entry.get("types") or {}
    return VariantMatch(
        genes=frozenset(entry["genes"]),
        changes=tuple(pattern(entry, "changes", text) for text in entry.get("changes") or ()),
        type_codes=codes(types.get("codes") or ()),
        type_words=tuple(word_pattern(w) for w in types.get("words") or ()),
        partners=bool(entry.get("partners")),
        significance=frozenset(entry.get("significance") or ()),
    )


def _finding_match(entry: YamlMap, pattern: Callable) -> FindingMatch:
    return FindingMatch(
        name=entry["name"],
        present=frozenset(entry.get("present") or ()),
        negative=frozenset(entry.get("negative") or ()),
        at_least=float(entry["at_least"]) if "at_least" in entry else None,
        reported=tuple(
            Reported(pattern(r, "pattern", r["pattern"]), r["status"], r.get("category"))
            for r in entry.get("reported") or ()
        ),
    )
