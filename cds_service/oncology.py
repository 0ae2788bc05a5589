"""The oncology table of ``rules/knowledge/oncology.yaml``: cancer sites, findings, dose formulas.

The table says which Observation codes are which finding (ER status, nodal category, ECOG, a
Recurrence Score, serum creatinine), how their values read, and the constants of the AUC dose
formulas; this module only gives them types and the generic look-ups the fact extractor needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .fhir import Code
from .text import word_pattern
from .yamlfile import RuleFileError, YamlMap


@dataclass(frozen=True)
class Site:
    name: str
    codes: frozenset[Code]
    words: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class FindingSpec:
    """How one finding is coded, read and converted."""

    name: str
    codes: tuple[Code, ...]
    """In order of precedence: pathologic before clinical TNM."""
    words: tuple[re.Pattern[str], ...] = ()
    answers: Mapping[str, str] | None = None
    unit: str | None = None
    from_units: Mapping[str, float] | None = None
    """Unit -> the number a value in that unit is divided by to be in ``unit``."""
    bands: tuple[tuple[float | None, str], ...] = ()
    ordered_when: tuple[re.Pattern[str], ...] = ()
    equivalent_codes: bool = False
    """The codes are methods of one measurement: none takes precedence, the latest wins."""
    trend: bool = False
    """Also compare the latest result with the earliest (a :class:`FindingTrend` fact)."""

    def rank(self, codes: Iterable[Code], texts: Iterable[str]) -> int | None:
        """The precedence of a coding among this finding's codes (words rank last), or None."""
        ranks = [self.code_rank(code) for code in codes if code in self.codes]
        if ranks:
            return min(ranks)
        if any(pattern.search(text) for text in texts for pattern in self.words):
            return len(self.codes)
        return None

    def code_rank(self, code: Code) -> int:
        return 0 if self.equivalent_codes else self.codes.index(code)

    def band(self, number: float) -> str | None:
        for below, name in self.bands:
            if below is None or number < below:
                return name
        return None


@dataclass(frozen=True)
class AucDosing:
    """Drugs dosed to a target AUC and the constants of Calvert and Cockcroft-Gault."""

    drugs: frozenset[str]
    auc_units: frozenset[str]
    auc_patterns: tuple[re.Pattern[str], ...]
    dose_unit: str
    add_to_gfr: float
    gfr_cap: float
    age_from: float
    divisor: float
    sex_factors: Mapping[str, float]
    """Cockcroft-Gault's factor per sex; a sex the table does not list cannot be computed."""
    creatinine: str
    weight: str


@dataclass(frozen=True)
class Oncology:
    sites: tuple[Site, ...]
    findings: Mapping[str, FindingSpec]
    auc: AucDosing

    def site_of(self, codes: Iterable[Code], texts: Iterable[str]) -> str | None:
        codes, texts = set(codes), list(texts)
        for site in self.sites:
            if codes & site.codes:
                return site.name
        for site in self.sites:
            if any(pattern.search(text) for text in texts for pattern in site.words):
                return site.name
        return None

    @property
    def codes(self) -> frozenset[Code]:
        return frozenset(self.finding_codes)

    @cached_property
    def finding_codes(self) -> Mapping[Code, tuple[str, int]]:
        """Observation code -> (finding, precedence): one look-up per coding."""
        return {
            code: (spec.name, spec.code_rank(code))
            for spec in self.findings.values()
            for code in spec.codes
        }

    @cached_property
    def worded(self) -> tuple[FindingSpec, ...]:
        """The findings that can also be recognised by words in the code's text."""
        return tuple(spec for spec in self.findings.values() if spec.words)


def load_oncology(doc: YamlMap, path: Path) -> Oncology:
    systems = dict(doc["systems"])

    def codes(items: Iterable[Mapping[str, str]]) -> tuple[Code, ...]:
        return tuple((systems.get(i["system"], i["system"]), str(i["code"])) for i in items)

    sites = tuple(
        Site(name, frozenset(codes(entry.get("codes") or ())), _words(entry.get("words")))
        for name, entry in doc["cancers"].items()
    )
    findings = {
        name: FindingSpec(
            name=name,
            codes=codes(entry["codes"]),
            words=_words(entry.get("words")),
            answers={str(k): str(v) for k, v in (entry.get("answers") or {}).items()} or None,
            unit=entry.get("unit"),
            from_units={str(k): float(v) for k, v in (entry.get("from_units") or {}).items()}
            or None,
            bands=tuple(
                (band.get("below"), str(band["band"])) for band in entry.get("bands") or ()
            ),
            ordered_when=_words(entry.get("ordered_when")),
            equivalent_codes=bool(entry.get("equivalent_codes")),
            trend=bool(entry.get("trend")),
        )
        for name, entry in doc["findings"].items()
    }
    auc = doc["auc_dosing"]
    formula = auc["cockcroft_gault"]
    for key in ("creatinine", "weight"):
        if formula[key] not in findings:
            message = (
                f"auc_dosing.cockcroft_gault.{key}: {formula[key]!r} is not a finding of this "
                f"table ({', '.join(sorted(findings))})"
            )
            raise RuleFileError(path, message, formula.line_of(key))
    return Oncology(
        sites=sites,
        findings=findings,
        auc=AucDosing(
            drugs=frozenset(auc["drugs"]),
            auc_units=frozenset(auc["auc_units"]),
            auc_patterns=tuple(re.compile(p, re.I) for p in auc["auc_patterns"]),
            dose_unit=auc["dose_unit"],
            add_to_gfr=float(auc["calvert"]["add_to_gfr"]),
            gfr_cap=float(auc["calvert"]["gfr_cap"]),
            age_from=float(formula["age_from"]),
            divisor=float(formula["divisor"]),
            sex_factors={sex: float(f) for sex, f in formula["sex_factors"].items()},
            creatinine=formula["creatinine"],
            weight=formula["weight"],
        ),
    )


def _words(words: Iterable[str] | None) -> tuple[re.Pattern[str], ...]:
    return tuple(word_pattern(w) for w in words or ())
