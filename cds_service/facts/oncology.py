"""Oncology data from mCODE-shaped resources: the cancers, the findings, and what is not on file.

``rules/knowledge/oncology.yaml`` says which Observation codes are which finding and how their
values read; nothing here knows a code. Per finding the result of the code ranked first is
used (pathologic before clinical TNM), the latest of them if several. A finding the table lists
with no result on file becomes a :class:`MissingFinding`, so that a rule can ask for it; one
marked ``trend`` also becomes a :class:`FindingTrend` (baseline, latest, change).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import chain
from typing import Any

from fhir.resources.R4B.observation import Observation

from .. import fhir
from ..knowledge import Knowledge
from ..oncology import FindingSpec, Oncology
from ..record import PatientRecord
from .clinical import Conditions, tests_ordered, unreadable
from .types import Cancer, Fact, Finding, FindingTrend, MissingFinding

"""Preliminary, cancelled or entered-in-error Observations are not results."""
NOT_INTERPRETED = "not interpreted"


def cancers(conditions: Conditions, knowledge: Knowledge) -> Iterable[Cancer]:
    """Current malignant Conditions of a site the table names."""
    for reference, condition in conditions.current:
        profiles = condition.meta.profile if condition.meta and condition.meta.profile else []
        codes = [(s or "", c or "") for s, c, _ in fhir.codings(condition.code)]
        texts = _texts(
            condition.code.text if condition.code else None, fhir.codings(condition.code)
        )
        if knowledge.clinical.indication(profiles, codes, texts) != "malignant":
            continue
        site = knowledge.oncology.site_of(codes, texts)
        if site:
            yield Cancer(
                site=site,
                condition=reference,
                text=fhir.concept_text(condition.code),
                sources=(reference,),
            )


def findings(record: PatientRecord, knowledge: Knowledge) -> Iterable[Fact]:
    """The result used for each finding, and a :class:`MissingFinding` for each one not on file.

    Candidates are ranked on the raw resource (code precedence, then the latest date) and only
    validated until one reads: a chart with years of weights validates one of them.
    """
    specs = knowledge.oncology.findings
    candidates: dict[str, list[tuple[int, str, Mapping[str, Any]]]] = {}
    for resource in record.resources:
        if resource.get("resourceType") != "Observation":
            continue
        matched = _match(resource.get("code"), knowledge.oncology)
        if matched is not None and resource.get("status") in fhir.RESULT_STATUSES:
            spec, rank = matched
            when = resource.get("effectiveDateTime") or resource.get("issued") or ""
            candidates.setdefault(spec.name, []).append((rank, str(when), resource))
    seen: set[str] = set()
    for name, found in candidates.items():
        found.sort(key=lambda item: item[1], reverse=True)  # latest first, then best code
        found.sort(key=lambda item: item[0])
        seen.add(name)
        results = (_read(record, specs[name], resource) for _, _, resource in found)
        for result in results:
            yield result
            if isinstance(result, Finding):
                if specs[name].trend:
                    yield from _trend(specs[name], result, results)
                break
    wanted = {s.name: s.ordered_when for s in specs.values() if s.ordered_when}
    orders = tests_ordered(record, knowledge.genomics.test_order_statuses, wanted)
    for name in specs:
        if name not in seen:
            yield MissingFinding(finding=name, test_ordered=orders.get(name))


def _trend(spec: FindingSpec, latest: Finding, older: Iterable[Fact]) -> Iterable[Fact]:
    """The older results (every one is read: the baseline is among them) and the trend.

    Only dated numbers count; the baseline is the earliest of them, the latest is the result the
    :class:`Finding` uses. Fewer than two make no trend.
    """
    points: list[tuple[str, float, Finding]] = []
    for result in chain([latest], older):
        if not isinstance(result, Finding):
            yield result
        elif result.number is not None and result.date:
            points.append((result.date, result.number, result))
    if len(points) < 2 or points[0][2] is not latest:
        return
    first_date, first, baseline = min(points, key=lambda point: point[0])
    last_date, last, _ = points[0]
    yield FindingTrend(
        finding=spec.name,
        baseline=first,
        baseline_date=first_date,
        latest=last,
        latest_date=last_date,
        change=last - first,
        count=float(len(points)),
        unit=spec.unit,
        sources=(*baseline.sources, *latest.sources),
    )


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
    return _finding(spec, observation)


def _match(concept: Any, oncology: Oncology) -> tuple[FindingSpec, int] | None:
    if not isinstance(concept, Mapping):
        return None
    codings = [c for c in concept.get("coding") or [] if isinstance(c, Mapping)]
    best: tuple[str, int] | None = None
    for coding in codings:
        found = oncology.finding_codes.get((str(coding.get("system", "")), str(coding.get("code"))))
        if found and (best is None or found[1] < best[1]):
            best = found
    if best:
        return oncology.findings[best[0]], best[1]
    texts = [concept.get("text"), *(c.get("display") for c in codings)]
    texts = [t for t in texts if isinstance(t, str)]
    for spec in oncology.worded:
        rank = spec.rank((), texts)
        if rank is not None:
            return spec, rank
    return None


def _finding(spec: FindingSpec, observation: Observation) -> Finding:
    reference = f"Observation/{observation.id}"
    value, number, unit, reported = _read_value(spec, observation)
    return Finding(
        finding=spec.name,
        value=value,
        number=number,
        unit=unit,
        band=spec.band(number) if number is not None and spec.bands else None,
        reported=reported,
        date=str(observation.effectiveDateTime) if observation.effectiveDateTime else None,
        sources=(reference,),
    )


def _read_value(
    spec: FindingSpec, observation: Observation
) -> tuple[str | None, float | None, str | None, str | None]:
    """(interpreted value, number in the table's unit, that unit, what was sent)."""
    if observation.valueInteger is not None:
        number = float(observation.valueInteger)
        return _numeric_answer(spec, number), number, spec.unit, str(observation.valueInteger)
    quantity = observation.valueQuantity
    if quantity is not None and quantity.value is not None:
        sent_unit = quantity.code or quantity.unit
        reported = " ".join(filter(None, [str(quantity.value), quantity.unit or quantity.code]))
        if spec.from_units is None:
            return None, float(quantity.value), sent_unit, reported
        divisor = spec.from_units.get(str(sent_unit)) or spec.from_units.get(str(quantity.unit))
        if divisor is None:
            return NOT_INTERPRETED, None, None, reported
        return None, float(quantity.value) / divisor, spec.unit, reported
    concept = observation.valueCodeableConcept
    if concept is not None:
        reported = fhir.concept_text(concept)
        for _, code, _ in fhir.codings(concept):
            if spec.answers and code in spec.answers:
                answer = spec.answers[code]
                return answer, _number(answer), spec.unit, reported
        return NOT_INTERPRETED, None, None, reported
    if observation.valueString:
        return NOT_INTERPRETED, None, None, observation.valueString
    return NOT_INTERPRETED, None, None, None


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


def _texts(text: str | None, codings: Iterable[fhir.Coding]) -> list[str]:
    return [t for t in [text, *(display for _, _, display in codings)] if t]
