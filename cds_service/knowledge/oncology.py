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
from string import Formatter
from typing import Any

from ..protocol.fhir import Code
from ..protocol.yamlfile import RuleFileError, YamlMap
from .concepts import Concept, codes, concept_of, load_concepts, words
from .genepanels import PerGene, load_per_gene
from .words import normal_text


@dataclass(frozen=True)
class Band:
    """A named range of a score: the first band whose limit the number is within."""

    name: str
    limit: float | None = None
    """None: every number left (the last band)."""
    inclusive: bool = False
    """``at_most`` (the limit belongs to the band) rather than ``below``."""

    def holds(self, number: float) -> bool:
        if self.limit is None:
            return True
        return number <= self.limit if self.inclusive else number < self.limit


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
    answer_texts: Mapping[str, str] | None = None
    """Normalised text of an answer (its ``text``, display or ``valueString``) -> the value."""
    component: Code | None = None
    """The component whose value is the result (mCODE tumor size: the largest dimension)."""
    bands: tuple[Band, ...] = ()
    ordered_when: tuple[re.Pattern[str], ...] = ()
    equivalent_codes: bool = False
    """The codes are methods of one measurement: none takes precedence, the latest wins."""
    trend: bool = False
    """Also compare the latest result with the earliest (a :class:`FindingTrend` fact)."""
    interpretation: bool = False
    """A value the answers do not read (a number without bands) takes the Observation's
    ``interpretation`` as its answer, when that is one of the answers."""
    per_gene: PerGene | None = None
    """Read from one result per gene product when no result of the finding itself is on file."""
    baseline: TrendBaseline | None = None
    """Per drug, the baseline is the last result before its first dose (the labels' "baseline")."""

    def rank(self, codes: Iterable[Code], texts: Iterable[str]) -> int | None:
        """The precedence of a coding among this finding's codes (words rank last), or None."""
        ranks = [self.code_rank(code) for code in codes if code in self.codes]
        if ranks:
            return min(ranks)
        if any(pattern.search(text) for text in texts for pattern in self.words):
            return 0 if self.equivalent_codes else len(self.codes)  # a method named in words
        return None

    def code_rank(self, code: Code) -> int:
        return 0 if self.equivalent_codes else self.codes.index(code)

    def band(self, number: float) -> str | None:
        for band in self.bands:
            if band.holds(number):
                return band.name
        return None

    def answer_text(self, text: str | None) -> str | None:
        """The value a written answer stands for: the whole text, whatever its case and spaces."""
        if not text or not self.answer_texts:
            return None
        return self.answer_texts.get(normal_text(text))


@dataclass(frozen=True)
class TrendBaseline:
    """A trend per drug whose label measures the fall from the value before treatment.

    ``before`` and ``after`` are the table's words for the baseline used: the latest result on
    or before the drug's first dose on file, or, when none was taken before it, the earliest
    result on file. Their fields are ``{drug}``, ``{dose}`` (the resource), ``{dose_date}``.
    """

    drugs: tuple[str, ...]
    before: str
    after: str


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
    conventions: frozenset[str]
    """How a dose is accepted: ``actual`` (actual weight, raw creatinine), ``nccn`` (NCCN
    Appendix B: adjusted weight from a BMI, a creatinine floor), or both."""
    nccn: NccnAdjustment


@dataclass(frozen=True)
class NccnAdjustment:
    """NCCN Appendix B guardrails: adjusted body weight from a BMI, a creatinine floor."""

    height: str
    adjusted_from_bmi: float
    adjusted_fraction: float
    creatinine_floor: float
    ibw_base_inches: float
    ibw_base: Mapping[str, float]
    """Devine ideal body weight, kg at ``ibw_base_inches`` and below, per sex."""
    ibw_per_inch: float
    cm_per_inch: float


@dataclass(frozen=True)
class Oncology:
    sites: tuple[Concept, ...]
    findings: Mapping[str, FindingSpec]
    auc: AucDosing

    def site_of(self, codes: Iterable[Code], texts: Iterable[str]) -> str | None:
        return concept_of(self.sites, codes, texts)

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

    def by_words(self, texts: tuple[str, ...]) -> tuple[FindingSpec, int] | None:
        """The first finding whose words a code's texts hold, with its precedence.

        Every result whose code is not a finding's (a chart's weights, blood counts) is tried
        against every finding's words; the same texts recur across results and calls, so the
        answer is remembered per texts (bounded: emptied when full).
        """
        known = self._by_words.get(texts, _UNSEEN)  # None is an answer: no finding's words
        if known is not _UNSEEN:
            return known  # type: ignore[return-value]
        found = next(
            ((spec, rank) for spec in self.worded if (rank := spec.rank((), texts)) is not None),
            None,
        )
        if len(self._by_words) >= _WORDS_KEPT:
            self._by_words.clear()
        self._by_words[texts] = found
        return found

    @cached_property
    def _by_words(self) -> dict[tuple[str, ...], tuple[FindingSpec, int] | None]:
        return {}


_UNSEEN = object()
_WORDS_KEPT = 4096
"""Distinct code texts whose finding is remembered: far more than a rule set's result codes."""


def load_oncology(doc: YamlMap, path: Path) -> Oncology:
    systems = dict(doc["systems"])
    sites = load_concepts(doc["cancers"], systems)
    findings = {
        name: FindingSpec(
            name=name,
            codes=codes(entry.get("codes") or (), systems),
            words=words(entry.get("words")),
            answers={str(k): str(v) for k, v in (entry.get("answers") or {}).items()} or None,
            answer_texts={
                normal_text(str(k)): str(v) for k, v in (entry.get("answer_texts") or {}).items()
            }
            or None,
            component=codes([entry["component"]], systems)[0] if entry.get("component") else None,
            unit=entry.get("unit"),
            from_units={str(k): float(v) for k, v in (entry.get("from_units") or {}).items()}
            or None,
            bands=tuple(_band(band) for band in entry.get("bands") or ()),
            ordered_when=words(entry.get("ordered_when")),
            equivalent_codes=bool(entry.get("equivalent_codes")),
            trend=bool(entry.get("trend")),
            interpretation=bool(entry.get("interpretation")),
            per_gene=load_per_gene(entry["per_gene"]) if entry.get("per_gene") else None,
            baseline=_baseline(entry.get("baseline_before_first_dose"), path),
        )
        for name, entry in doc["findings"].items()
    }
    auc = doc["auc_dosing"]
    formula = auc["cockcroft_gault"]
    nccn = auc["nccn"]
    if nccn["height"] not in findings:
        message = f"auc_dosing.nccn.height: {nccn['height']!r} is not a finding of this table"
        raise RuleFileError(path, message, nccn.line_of("height"))
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
            conventions=frozenset(auc["accept"]),
            nccn=NccnAdjustment(
                height=nccn["height"],
                adjusted_from_bmi=float(nccn["adjusted_weight_from_bmi"]),
                adjusted_fraction=float(nccn["adjusted_weight_fraction"]),
                creatinine_floor=float(nccn["creatinine_floor"]),
                ibw_base_inches=float(nccn["ibw_base_inches"]),
                ibw_base={sex: float(kg) for sex, kg in nccn["ibw_at_base"].items()},
                ibw_per_inch=float(nccn["ibw_per_inch"]),
                cm_per_inch=float(nccn["cm_per_inch"]),
            ),
        ),
    )


def _band(entry: Mapping[str, Any]) -> Band:
    if "at_most" in entry:
        return Band(str(entry["band"]), float(entry["at_most"]), inclusive=True)
    below = entry.get("below")
    return Band(str(entry["band"]), None if below is None else float(below))


BASELINE_FIELDS = frozenset({"drug", "dose", "dose_date"})


def _baseline(entry: YamlMap | None, path: Path) -> TrendBaseline | None:
    """The table's baseline words, refused when they name a field the fact cannot fill."""
    if not entry:
        return None
    words = entry["words"]
    for key in ("before", "after"):
        fields = {name for _, name, _, _ in Formatter().parse(words[key]) if name is not None}
        if not fields <= BASELINE_FIELDS:
            unknown = ", ".join(sorted(fields - BASELINE_FIELDS))
            message = f"baseline words {key!r}: unknown field {unknown}"
            raise RuleFileError(path, message, words.line_of(key))
    return TrendBaseline(tuple(entry["drugs"]), str(words["before"]), str(words["after"]))
