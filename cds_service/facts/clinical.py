"""The patient and their Conditions: age, sex, menopausal status, and what a drug is for.

A rule cannot look through Conditions itself, so the two things the PGx rules need from them
are computed here from ``rules/knowledge/conditions.yaml``: whether an order's indication is a
malignancy (thiopurine starting doses differ) and the menopausal status (tamoxifen
alternatives differ), each with the evidence it rests on.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.patient import Patient

from ..knowledge.tables import Knowledge
from ..prefetch.record import PatientRecord
from ..protocol import fhir
from .dosage import format_number
from .types.carefacts import PatientFact, Unreadable
from .types.fact import Fact

_INACTIVE = frozenset({"inactive", "resolved"})  # a leukaemia in remission is still the indication


@dataclass
class Conditions:
    """The patient's current Conditions, validated, by reference."""

    current: list[tuple[str, Condition]] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)

    def get(self, reference: str) -> Condition | None:
        wanted = "/".join(reference.rstrip("/").split("/")[-2:])
        return next((c for ref, c in self.current if ref == wanted), None)


def read_conditions(record: PatientRecord, knowledge: Knowledge) -> Conditions:
    conditions = Conditions()
    for resource in record.of_type("Condition"):
        reference = fhir.reference_of(resource)
        try:
            condition = fhir.validate(resource)
        except fhir.InvalidResource as error:
            conditions.unreadable.append(unreadable(error, "Condition"))
            continue
        assert isinstance(condition, Condition)
        problem = record.foreign_subject(condition.subject)
        if problem:
            conditions.unreadable.append(
                unreadable(fhir.InvalidResource(reference, problem), "Condition")
            )
        elif _current(condition, knowledge):
            conditions.current.append((reference, condition))
    return conditions


def _current(condition: Condition, knowledge: Knowledge) -> bool:
    """Active (or in remission) and a diagnosis: not unconfirmed, refuted or "suspected"."""
    clinical = {code for _, code, _ in fhir.codings(condition.clinicalStatus)}
    verification = {code for _, code, _ in fhir.codings(condition.verificationStatus)}
    texts = fhir.concept_words(condition.code)
    return not clinical & _INACTIVE and knowledge.clinical.diagnosis(verification, texts)


def patient(
    record: PatientRecord, knowledge: Knowledge, today: date, conditions: Conditions
) -> Iterable[Fact]:
    if record.patient is None:
        status, basis = menopause(None, None, knowledge, conditions)
        yield PatientFact(patient_id=record.patient_id, menopause=status, menopause_basis=basis)
        return
    try:
        resource = fhir.validate(record.patient)
    except fhir.InvalidResource as error:
        yield PatientFact(patient_id=record.patient_id)
        yield unreadable(error, "Patient")
        return
    assert isinstance(resource, Patient)
    age = _age(resource.birthDate, today)
    status, basis = menopause(resource.gender, age, knowledge, conditions)
    yield PatientFact(
        patient_id=record.patient_id,
        sex=resource.gender,
        age=age,
        menopause=status,
        menopause_basis=basis,
        deceased=_deceased(resource, today),
        sources=(fhir.reference_of(record.patient),),
    )


def _deceased(patient: Patient, today: date) -> str | None:
    """When the patient died (a date, or ``yes``), if by ``today``; a later date is not yet."""
    if patient.deceasedBoolean:
        return "yes"
    died = day_of(patient.deceasedDateTime)
    return died.isoformat() if died and died <= today else None


def _age(birth: date | str | None, today: date) -> float | None:
    """Whole years on ``today``; None for a birth date without its day ("1996", "1996-04"),
    which FHIR allows but which cannot tell 29 from 30, so the rules say the age is unknown."""
    day = day_of(birth)
    if day is None:
        return None
    return float(today.year - day.year - ((today.month, today.day) < (day.month, day.day)))


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def day_of(value: Any) -> date | None:
    """The calendar day of a FHIR date or dateTime as read or as text; None for "2019-04".

    A date without its day cannot give a due date to the day, so it counts as no date.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DAY.match(value):
        return date.fromisoformat(value[:10])
    return None


def diagnosis_date(condition: Condition) -> date | None:
    """When a Condition was diagnosed: its onset, else the day it was recorded."""
    period = condition.onsetPeriod.start if condition.onsetPeriod else None
    return day_of(condition.onsetDateTime) or day_of(period) or day_of(condition.recordedDate)


def weeks_since(day: date, today: date) -> float:
    """Whole days as weeks, to one decimal: 12 weeks and 1 day is 12.1, never 12."""
    return round((today - day).days / 7, 1)


def menopause(
    sex: str | None, age: float | None, knowledge: Knowledge, conditions: Conditions
) -> tuple[str, str]:
    """The menopausal status and what it rests on: a recorded finding, else the age."""
    if sex in knowledge.clinical.menopause_not_applicable:
        return "not applicable", f"{sex} patient"
    codes = knowledge.clinical.menopause_codes
    for reference, condition in conditions.current:
        for system, code, display in fhir.codings(condition.code):
            status = codes.get((system or "", code or ""))
            if status:
                return status, f"recorded: {reference} ({display or code})"
    threshold = knowledge.clinical.postmenopausal_from_age
    if age is None:
        return "unknown", "no menopausal status or age on file"
    if age >= threshold:
        return "postmenopausal", f"age {format_number(age)} ({format_number(threshold)} or over)"
    return "unknown", f"age {format_number(age)}, no menopausal status on file"


@dataclass(frozen=True)
class Indication:
    """What a drug is for, the evidence in words, and the Condition it came from."""

    kind: str | None = None
    basis: str | None = None
    condition: str | None = None


def indication(
    knowledge: Knowledge,
    conditions: Conditions,
    reasons: Sequence[Condition],
    reason_codes: Sequence[CodeableConcept],
) -> Indication:
    """``malignant`` or ``non-malignant``: from the order's reasons, else from the record.

    Among the record's Conditions a malignancy wins: a thiopurine for a patient with leukaemia
    and Crohn's disease is dosed as for the leukaemia unless the order says otherwise.
    """
    for concept in reason_codes:
        found = _classify(knowledge, [], concept)
        if found:
            return Indication(found, f"order reason: {fhir.concept_text(concept)}")
    candidates = [(f"Condition/{c.id}", c) for c in reasons] or conditions.current
    first = Indication()
    for reference, condition in candidates:
        profiles = condition.meta.profile if condition.meta and condition.meta.profile else []
        found = _classify(knowledge, profiles, condition.code)
        described = Indication(
            found, f"{reference}: {fhir.concept_text(condition.code)}", reference
        )
        if found == "malignant":
            return described
        if found and first.kind is None:
            first = described
    return first


def _classify(
    knowledge: Knowledge, profiles: Iterable[str], concept: CodeableConcept | None
) -> str | None:
    codings = list(fhir.codings(concept))
    texts = [concept.text if concept else None, *(display for _, _, display in codings)]
    return knowledge.clinical.indication(
        profiles,
        [(system or "", code or "") for system, code, _ in codings],
        [text for text in texts if text],
    )


REASON_MAX = 300
"""Characters of why a resource could not be read, as one card shows it."""


def unreadable(
    error: fhir.InvalidResource,
    resource_type: str,
    role: str = "record",
    *,
    gene: str | None = None,
    ingredient: str | None = None,
    finding: str | None = None,
    procedure: str | None = None,
    biomarker: str | None = None,
) -> Unreadable:
    reason = error.reason  # may quote the record (a subject reference): bounded
    return Unreadable(
        resource=error.reference,
        resource_type=resource_type,
        reason=reason if len(reason) <= REASON_MAX else reason[: REASON_MAX - 1] + "…",
        role=role,
        gene=gene,
        ingredient=ingredient,
        finding=finding,
        procedure=procedure,
        biomarker=biomarker,
        sources=(error.reference,),
    )


def on_file(
    record: PatientRecord, statuses: Mapping[str, Collection[str]]
) -> Iterator[tuple[str, str, CodeableConcept | None]]:
    """``(Type/id, status, code)`` of each request or record of a listed type and status.

    The draft orders come first, then the record. A resource that is not valid FHIR, or belongs
    to another patient, is left out: what it would have shown is asked for again.
    """
    for resource in [*record.draft_orders, *record.of_type(*statuses)]:
        allowed = statuses.get(str(resource.get("resourceType")))
        if allowed is None or resource.get("status") not in allowed:
            continue
        try:
            model = fhir.validate(resource)
        except fhir.InvalidResource:
            continue
        if not record.foreign_subject(getattr(model, "subject", None)):
            yield fhir.reference_of(resource), str(resource["status"]), getattr(model, "code", None)


def tests_ordered(
    record: PatientRecord,
    statuses: Collection[str],
    wanted: Mapping[str, Sequence[re.Pattern[str]]],
) -> dict[str, str]:
    """Name -> "ServiceRequest/x (status)": the first order on file whose code names the test.

    ``wanted`` gives, per test, the words that show it in a ServiceRequest's code.
    """
    found: dict[str, str] = {}
    for reference, status, code in on_file(record, {"ServiceRequest": statuses}):
        texts = fhir.concept_words(code)
        for name, patterns in wanted.items():
            if name not in found and any(p.search(t) for t in texts for p in patterns):
                found[name] = f"{reference} ({status})"
    return found
