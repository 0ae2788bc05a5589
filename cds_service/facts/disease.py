"""Oncology data from mCODE-shaped resources: the cancers, the findings, and what is not on file.

``rules/knowledge/oncology.yaml`` says which Observation codes are which finding and how their
values read; nothing here knows a code. Per finding the result of the code ranked first is
used (pathologic before clinical TNM), the latest of them if several; a value that only says
why there is none (data-absent-reason: a pM "not applicable") gives way to the next result. A
finding the table lists with no result on file becomes a :class:`MissingFinding`, so that a
rule can ask for it; one marked ``trend`` also becomes a :class:`FindingTrend` (baseline,
latest, change). ``rules/knowledge/care.yaml`` says which findings and Conditions make the
cancer advanced, and which staging shows it is not: the :class:`Extent` of the disease.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from operator import itemgetter
from typing import Any

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.observation import Observation

from ..knowledge.care import ADVANCED, NOT_ADVANCED, UNKNOWN
from ..knowledge.oncology import FindingSpec, Oncology
from ..knowledge.plausibility import Plausibility
from ..knowledge.tables import Knowledge
from ..prefetch.record import PatientRecord
from ..protocol import fhir
from .clinical import Conditions, day_of, diagnosis_date, tests_ordered, unreadable, weeks_since
from .medications import Given
from .panel import per_gene_finding
from .trend import trends
from .types.diseasefacts import AdvancedCancer, Cancer, Finding, MissingFinding, PerformedProcedure
from .types.fact import Fact

NOT_INTERPRETED = "not interpreted"


def cancers(conditions: Conditions, knowledge: Knowledge, today: date) -> Iterable[Cancer]:
    """One fact per cancer site of the current malignant Conditions, dated by the earliest.

    EHR exports record a diagnosis again at each visit (Synthea: one Condition per encounter);
    the same cancer must give one card, citing every Condition that names it.
    """
    by_site: dict[str, list[tuple[date | None, str, Condition]]] = {}
    for reference, condition in conditions.current:
        profiles, codes, texts = _described(condition)
        if knowledge.clinical.indication(profiles, codes, texts) != "malignant":
            continue
        site = knowledge.oncology.site_of(codes, texts)
        if site:
            by_site.setdefault(site, []).append((diagnosis_date(condition), reference, condition))
    for site, found in by_site.items():
        diagnosed, reference, condition = min(found, key=lambda f: (f[0] or date.max, f[1]))
        yield Cancer(
            site=site,
            condition=reference,
            text=fhir.concept_text(condition.code),
            diagnosed=diagnosed.isoformat() if diagnosed else None,
            weeks_since_diagnosis=weeks_since(diagnosed, today) if diagnosed else None,
            sources=tuple(ref for _, ref, _ in found),
        )


def advanced_cancer(
    conditions: Conditions,
    results: Iterable[Finding],
    knowledge: Knowledge,
    today: date,
) -> Iterable[AdvancedCancer]:
    """One fact when any finding or Condition shows advanced cancer, dated by the earliest.

    Evidence without a date leaves the date unknown: the primary cancer's diagnosis would date
    a recurrence years too early, and make a goals-of-care conversation look long overdue.
    """
    spec = knowledge.care.advanced
    evidence: list[tuple[str, date | None, tuple[str, ...]]] = []
    for result in results:
        if result.value in spec.findings.get(result.finding, ()):
            evidence.append((_words(result), day_of(result.date), result.sources))
    for reference, condition in conditions.current:
        profiles, codes, texts = _described(condition)
        shown = not spec.profiles.isdisjoint(profiles) or spec.conditions.by_code(codes)
        if shown or (
            (spec.conditions.by_words(texts) or spec.combined(texts))
            and knowledge.clinical.indication(profiles, codes, texts) == "malignant"
        ):
            words = fhir.concept_text(condition.code) or reference
            evidence.append((words, diagnosis_date(condition), (reference,)))
    if not evidence:
        return
    first = min((day for _, day, _ in evidence if day), default=None)
    yield AdvancedCancer(
        basis="; ".join(_dated(words, day) for words, day, _ in evidence),
        diagnosed=first.isoformat() if first else None,
        weeks_since_diagnosis=weeks_since(first, today) if first else None,
        sources=tuple(dict.fromkeys(source for _, _, sources in evidence for source in sources)),
    )


@dataclass(frozen=True)
class Extent:
    """How far the record shows the patient's cancer has spread (``care.EXTENTS``), and why."""

    value: str = UNKNOWN
    basis: str | None = None
    """What shows it, in words: "stage group II (2026-09-20)", "primary tumor T3; nodes N0"."""
    sources: tuple[str, ...] = ()


def extent(
    advanced: Sequence[AdvancedCancer], results: Mapping[str, Finding], knowledge: Knowledge
) -> Extent:
    """Advanced when an advanced-cancer fact is on file; not advanced when staging shows it.

    Staging that shows a cancer is not advanced is ``care.yaml`` ``not_advanced``: one finding
    with a listed value, or every finding of ``together``. Anything else (no staging, a T
    category alone) is unknown, never early disease.
    """
    if advanced:
        return Extent(ADVANCED, advanced[0].basis, advanced[0].sources)
    spec = knowledge.care.not_advanced
    shown = _showing(results, spec.findings)
    together = _showing(results, spec.together)
    if not shown and together and len(together) == len(spec.together):
        shown = together
    if not shown:
        return Extent()
    return Extent(
        NOT_ADVANCED,
        "; ".join(_dated(_words(r), day_of(r.date)) for r in shown),
        tuple(dict.fromkeys(source for r in shown for source in r.sources)),
    )


def _showing(results: Mapping[str, Finding], table: Mapping[str, frozenset[str]]) -> list[Finding]:
    """The results of the table's findings that have one of the values it lists for them."""
    found = (results.get(name) for name in table)
    return [r for r in found if r is not None and r.value in table[r.finding]]


def _words(result: Finding) -> str:
    return f"{result.finding.replace('_', ' ')} {result.value}"


def _dated(words: str, day: date | None) -> str:
    return f"{words} ({day.isoformat()})" if day else words


def findings(
    record: PatientRecord,
    knowledge: Knowledge,
    done: Sequence[PerformedProcedure] = (),
    doses: Mapping[str, Given] | None = None,
) -> Iterable[Fact]:
    """The result used for each finding, and a :class:`MissingFinding` for each one not on file.

    Candidates are ranked on the raw resource (code precedence, then the latest date) and only
    validated until one reads: a chart with years of weights validates one of them. ``done``
    are the procedures on file, which a result may have been taken after (``after_procedure``);
    ``doses`` the first doses of the drugs a trend's baseline is set by (:mod:`.trend`).
    """
    specs = knowledge.oncology.findings
    candidates: dict[str, list[tuple[bool, int, str, Mapping[str, Any]]]] = {}
    matched = record.by_code("Observation", lambda concept: _match(concept, knowledge.oncology))
    for resource, (spec, rank) in matched:
        if resource.get("status") in fhir.RESULT_STATUSES:
            when = _when(resource) or ""
            candidates.setdefault(spec.name, []).append(
                (_data_absent(resource), rank, when, resource)
            )
    seen: set[str] = set()
    for name, found in candidates.items():
        found.sort(key=itemgetter(2), reverse=True)  # the latest first among equals of:
        found.sort(key=itemgetter(0, 1))  # a value, the best code
        seen.add(name)
        after = knowledge.procedures.follow_up.get(name, frozenset())
        plausible = knowledge.plausibility
        results = (
            _placed(_plausible(_read(record, specs[name], resource), plausible), after, done)
            for _, _, _, resource in found
        )
        for result in results:
            yield result
            if isinstance(result, Finding):
                if specs[name].trend:
                    yield from trends(specs[name], result, results, doses or {})
                break
    wanted = {s.name: s.ordered_when for s in specs.values() if s.ordered_when}
    orders = tests_ordered(record, knowledge.genomics.test_order_statuses, wanted)
    for name in specs:
        panel = None if name in seen else per_gene_finding(record, specs[name], knowledge.genomics)
        if panel is not None:
            yield panel
        elif name not in seen:
            yield MissingFinding(finding=name, test_ordered=orders.get(name))


def _plausible(result: Fact, plausibility: Plausibility) -> Fact:
    """A finding whose number cannot be a real one is not interpreted, and says why."""
    if not isinstance(result, Finding) or result.number is None:
        return result
    problem = plausibility.finding_problem(result.finding, result.number, result.unit)
    if problem is None:
        return result
    return replace(result, value=NOT_INTERPRETED, number=None, band=None, reported=problem)


def _placed(result: Fact, after: frozenset[str], done: Sequence[PerformedProcedure]) -> Fact:
    """A finding with the procedure it was taken after, of those the table reads it against."""
    if not isinstance(result, Finding):
        return result
    procedure = _after(result.date, after, done)
    if procedure == result.after_procedure:  # as for most: a copy costs more than the check
        return result
    return replace(result, after_procedure=procedure)


def _read(record: PatientRecord, spec: FindingSpec, resource: Mapping[str, Any]) -> Fact:
    """The finding, or why the resource cannot be used for this patient."""
    try:
        observation = fhir.validate(resource)
    except fhir.InvalidResource as error:
        return unreadable(error, "Observation", finding=spec.name)
    assert isinstance(observation, Observation)
    problem = record.foreign_subject(observation.subject)
    if problem:
        error = fhir.InvalidResource(fhir.reference_of(resource), problem)
        return unreadable(error, "Observation", finding=spec.name)
    return _finding(spec, observation, resource)


def _data_absent(resource: Mapping[str, Any]) -> bool:
    """A value that only says why there is none: a later-ranked result is read first."""
    value = resource.get("valueCodeableConcept")
    codings = value.get("coding") if isinstance(value, dict) else None
    return isinstance(codings, list) and any(
        isinstance(c, Mapping) and c.get("system") == fhir.DATA_ABSENT for c in codings
    )


def _described(condition: Condition) -> tuple[list[str], list[fhir.Code], list[str]]:
    """A Condition's profiles, codes and texts, as the knowledge tables match them."""
    profiles = list(condition.meta.profile) if condition.meta and condition.meta.profile else []
    codes = fhir.codes_of(condition.code)
    return profiles, codes, fhir.concept_words(condition.code)


def _match(concept: fhir.RawConcept, oncology: Oncology) -> tuple[FindingSpec, int] | None:
    best: tuple[str, int] | None = None
    for code in concept.codes:
        found = oncology.finding_codes.get(code)
        if found and (best is None or found[1] < best[1]):
            best = found
    if best:
        return oncology.findings[best[0]], best[1]
    return oncology.by_words(concept.texts)


def _finding(spec: FindingSpec, observation: Observation, resource: Mapping[str, Any]) -> Finding:
    reference = f"Observation/{observation.id}"
    value, number, unit, reported = _read_value(spec, _result(spec, observation))
    if spec.interpretation and value in (None, NOT_INTERPRETED):
        value = _interpreted(spec, observation) or value  # MII MSI: 2.61 %, "Stable"
    if number is not None:
        band = spec.band(number)
    else:  # a lab that reports the band in words ("High risk") names it as its value
        band = value if value in {b.name for b in spec.bands} else None
    return Finding(
        finding=spec.name,
        value=value,
        number=number,
        unit=unit,
        band=band,
        reported=reported,
        date=_when(resource),
        sources=(reference,),
    )


def _when(resource: Mapping[str, Any]) -> str | None:
    """When a result was taken: its effective time (a period's start), else when it was issued.

    The same for ranking the raw resources and for the finding's date, so that the result read
    as the latest is the one the card dates, and a result dated by a period still has a date.
    """
    period = resource.get("effectivePeriod")
    start = period.get("start") or period.get("end") if isinstance(period, dict) else None
    found = resource.get("effectiveDateTime") or start or resource.get("effectiveInstant")
    found = found or resource.get("issued")
    return str(found) if found else None


def _result(spec: FindingSpec, observation: Observation) -> Any:
    """What holds the value: the table's component when the Observation has it, else itself."""
    if spec.component is None:
        return observation
    for component in observation.component or ():
        if fhir.has_code(component.code, frozenset({spec.component})):
            return component
    return observation


def _after(
    date: str | None, names: frozenset[str], done: Sequence[PerformedProcedure]
) -> str | None:
    """The latest of the named procedures performed before ``date`` (a day's precision)."""
    if not date or not names:
        return None
    before = [p for p in done if p.procedure in names and p.date and p.date[:10] < date[:10]]
    return max(before, key=lambda p: p.date or "").procedure if before else None


def _read_value(
    spec: FindingSpec, result: Any
) -> tuple[str | None, float | None, str | None, str | None]:
    """(interpreted value, number in the table's unit, that unit, what was sent).

    ``result`` is the Observation or the component the table names; both carry ``value[x]``.
    """
    if result.valueInteger is not None:
        number = float(result.valueInteger)
        return _numeric_answer(spec, number), number, spec.unit, str(result.valueInteger)
    quantity = result.valueQuantity
    if quantity is not None and quantity.value is not None:
        sent_unit = quantity.code or quantity.unit
        value = f"{quantity.comparator or ''}{quantity.value}"
        reported = " ".join(filter(None, [value, quantity.unit or quantity.code]))
        if quantity.comparator:  # "<0.1 ng/mL" is not 0.1: no threshold may read it as one
            return NOT_INTERPRETED, None, None, reported
        if spec.from_units is None:
            return None, float(quantity.value), sent_unit, reported
        divisor = spec.from_units.get(str(sent_unit)) or spec.from_units.get(str(quantity.unit))
        if divisor is None:
            return NOT_INTERPRETED, None, None, reported
        return None, float(quantity.value) / divisor, spec.unit, reported
    concept = result.valueCodeableConcept
    if concept is not None:
        reported = fhir.concept_text(concept)
        for _, code, _ in fhir.codings(concept):
            if spec.answers and code in spec.answers:
                answer = spec.answers[code]
                return answer, _number(answer), spec.unit, reported
        texts = [concept.text, *(display for _, _, display in fhir.codings(concept))]
        answer = next(filter(None, map(spec.answer_text, texts)), None)
        if answer is not None:
            return answer, _number(answer), spec.unit, reported
        return NOT_INTERPRETED, None, None, reported
    if result.valueString:
        answer = spec.answer_text(result.valueString)
        if answer is not None:
            return answer, _number(answer), spec.unit, result.valueString
        return NOT_INTERPRETED, None, None, result.valueString
    return NOT_INTERPRETED, None, None, None


def _interpreted(spec: FindingSpec, observation: Observation) -> str | None:
    """The answer the lab's ``interpretation`` gives, read with the finding's answers."""
    for concept in observation.interpretation or ():
        for _, code, display in fhir.codings(concept):
            if spec.answers and code in spec.answers:
                return spec.answers[code]
            if spec.answer_text(display):
                return spec.answer_text(display)
        if spec.answer_text(concept.text):
            return spec.answer_text(concept.text)
    return None


def _numeric_answer(spec: FindingSpec, number: float) -> str | None:
    """The answer a score stands for when the table lists scores as answers (ECOG 0-5)."""
    if spec.answers and number.is_integer() and str(int(number)) in spec.answers.values():
        return str(int(number))
    return None


def _number(answer: str) -> float | None:
    try:
        return float(answer)
    except ValueError:
        return None
