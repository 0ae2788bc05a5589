"""Medications: the orders being entered, the ones the patient takes, and the enzymes they inhibit.

The drug of an order is found in ``rules/knowledge/drugs.yaml`` by RxNorm code, then by name;
a product form that shares its ingredient's code (liposomal irinotecan) is told apart by name.
Each known drug that inhibits an enzyme also becomes an :class:`Inhibitor` fact, which is how
a rule sees a drug-drug-gene interaction in either direction.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.medicationstatement import MedicationStatement

from ..knowledge.tables import Knowledge
from ..prefetch.record import PatientRecord, relative
from ..protocol import fhir
from .clinical import Conditions, indication, unreadable
from .dosage import Course, course, describe_timing, dose_quantity, quantity_units
from .types.drugfacts import ActiveMedication, DraftMedication, Inhibitor, PastMedication
from .types.fact import Fact

_ACTIVE_KINDS = ("MedicationRequest", "MedicationStatement")


UNIDENTIFIED_DRUG = "draft_medication"
"""The role of an Unreadable draft order whose Medication could not be read: its drug is
unknown (it may come in a prefetch key that did not), not absent."""


def draft_orders(
    record: PatientRecord, knowledge: Knowledge, conditions: Conditions
) -> Iterable[Fact]:
    for resource in record.draft_orders:
        if resource.get("resourceType") != "MedicationRequest":
            continue
        try:
            order = fhir.validate(resource)
        except fhir.InvalidResource as error:
            concept = resource.get("medicationCodeableConcept")
            yield unreadable(
                error,
                "MedicationRequest",
                "draft_order",
                ingredient=_raw_ingredient(concept, knowledge),
            )
            continue
        assert isinstance(order, MedicationRequest)
        chosen = order.medicationReference  # medication[x] is required: this, or a concept
        concept = order.medicationCodeableConcept or record.medication_concept(
            chosen.reference if chosen else None, container=resource
        )
        if concept is None:  # a drug was chosen by reference, but which one cannot be read
            named = ((chosen.reference or chosen.display) if chosen else None) or "(no reference)"
            why = f"its medication {named} was not sent, or has no readable code"
            error = fhir.InvalidResource(fhir.reference_of(resource), why)
            yield unreadable(error, "MedicationRequest", UNIDENTIFIED_DRUG)
            continue
        ingredient, rxnorm, how = identify(concept, knowledge)
        value, unit = dose_quantity(order.dosageInstruction)
        problem = None if value is None else knowledge.plausibility.dose_problem(value, unit)
        if problem:  # no dose is ever computed from it: the card says the dose was not read
            error = fhir.InvalidResource(fhir.reference_of(resource), problem)
            yield unreadable(error, "MedicationRequest", "dose", ingredient=ingredient)
            value = None
        unit = _unit_in_words(unit, ingredient, knowledge)
        reasons = [
            c
            for ref in order.reasonReference or ()
            if ref.reference and (c := conditions.get(ref.reference)) is not None
        ]
        purpose = indication(knowledge, conditions, reasons, order.reasonCode or [])
        parts = knowledge.drugs.components(ingredient) if ingredient else (None,)
        for part in parts:
            single = len(parts) == 1 and part == ingredient
            yield DraftMedication(
                order=fhir.reference_of(resource),
                drug=fhir.concept_text(concept) or ingredient or "unnamed medication",
                ingredient=part,
                rxnorm=rxnorm,
                identified_by=how if single else f"{how}: {ingredient}",
                # a regimen's dose is not its ingredients' dose
                dose_value=value if single else None,
                dose_unit=unit if single else None,
                frequency=describe_timing(order.dosageInstruction),
                indication=purpose.kind,
                indication_basis=purpose.basis,
                sources=tuple(filter(None, [fhir.reference_of(resource), purpose.condition])),
            )


def _unit_in_words(unit: str | None, ingredient: str | None, knowledge: Knowledge) -> str | None:
    """A UCUM annotation (``{pill}``) as the drug's form in words ("tablets"), never in braces."""
    if not unit or not (unit.startswith("{") and unit.endswith("}")):
        return unit
    made = knowledge.drugs.strengths.get(ingredient or "")
    return made.forms if made is not None else unit[1:-1]


_PAST_ADMINISTRATIONS = ("completed", "in-progress", "on-hold", "stopped")
_PAST_REQUESTS = ("completed", "stopped")
_DAYS_PER_MONTH = 365.25 / 12


def past_medications(
    record: PatientRecord, knowledge: Knowledge, today: date
) -> Iterable[PastMedication]:
    """Drugs given or ordered and finished before: administrations and completed or stopped
    orders, with how long ago, so that a rule can tell therapy already given (adjuvant
    chemotherapy before endocrine therapy, a completed targeted course) from none at all."""
    for item in given(
        record, knowledge, knowledge.drugs.ingredients, _PAST_ADMINISTRATIONS, _PAST_REQUESTS
    ):
        when = _date(item.date)
        yield PastMedication(
            resource=item.resource,
            drug=item.drug,
            ingredient=item.ingredient,
            date=item.date,
            months_ago=None if when is None else round((today - when).days / _DAYS_PER_MONTH, 1),
            sources=(item.resource,),
        )


def active_medications(record: PatientRecord, knowledge: Knowledge) -> Iterable[Fact]:
    """Active MedicationRequests and MedicationStatements of drugs the tables know."""
    for resource in record.of_type(*_ACTIVE_KINDS):
        kind = resource.get("resourceType")
        if resource.get("status") != "active":
            continue
        try:
            medication = fhir.validate(resource)
        except fhir.InvalidResource as error:
            concept = resource.get("medicationCodeableConcept")
            found = _raw_ingredient(concept, knowledge)
            if found:
                yield unreadable(error, str(kind), ingredient=found)
            continue
        assert isinstance(medication, MedicationRequest | MedicationStatement)
        if record.foreign_subject(medication.subject):
            continue
        concept = medication.medicationCodeableConcept or record.medication_concept(
            medication.medicationReference.reference if medication.medicationReference else None,
            container=resource,
        )
        ingredient = identify(concept, knowledge)[0] if concept else None
        if ingredient:
            reference = fhir.reference_of(resource)
            for part in knowledge.drugs.components(ingredient):
                yield ActiveMedication(
                    resource=reference,
                    drug=fhir.concept_text(concept) or ingredient,
                    ingredient=part,
                    sources=(reference,),
                )


@dataclass(frozen=True)
class Given:
    """Doses given in the past: one administration, or the course of a finished order."""

    resource: str
    ingredient: str
    drug: str
    date: str | None = None
    course: Course | None = None
    problem: str | None = None
    """Why the resource cannot be counted (not valid FHIR, another patient's)."""


def given(
    record: PatientRecord,
    knowledge: Knowledge,
    ingredients: Collection[str],
    administration_statuses: Collection[str],
    request_statuses: Collection[str],
) -> list[Given]:
    """Past doses of ``ingredients``: administrations, then finished orders none of them names.

    An order whose administrations are on file is counted through them (they say what was
    actually given), so no dose is counted twice.
    """
    found: list[Given] = []
    requested: set[str] = set()
    for resource in _of_type(record, "MedicationAdministration", administration_statuses):
        read = _read_given(record, knowledge, resource, ingredients)
        if read is not None:
            found.append(_administered(*read))
            administration = read[0]
            if isinstance(administration, MedicationAdministration) and administration.request:
                requested.add(relative(administration.request.reference or ""))
    for resource in _of_type(record, "MedicationRequest", request_statuses):
        if fhir.reference_of(resource) not in requested:
            read = _read_given(record, knowledge, resource, ingredients)
            found.extend([_ordered(*read)] if read else [])
    return found


def _of_type(
    record: PatientRecord, kind: str, statuses: Collection[str]
) -> Iterable[Mapping[str, Any]]:
    for resource in record.of_type(kind):
        if resource.get("status") in statuses:
            yield resource


def _read_given(
    record: PatientRecord,
    knowledge: Knowledge,
    resource: Mapping[str, Any],
    ingredients: Collection[str],
) -> tuple[MedicationAdministration | MedicationRequest | None, Given] | None:
    """The resource validated and what is known of its drug, if it is one of ``ingredients``.

    A resource that cannot be counted comes back with no model and the ``problem``.
    """
    reference = fhir.reference_of(resource)
    found = _raw_ingredient(resource.get("medicationCodeableConcept"), knowledge)
    if "medicationReference" not in resource and found not in ingredients:
        return None  # a chart holds many administrations: only those of the drugs are validated
    try:
        model = fhir.validate(resource)
    except fhir.InvalidResource as error:
        if found is None or found not in ingredients:
            return None
        return None, Given(reference, found, found, problem=f"not valid FHIR ({error.reason})")
    assert isinstance(model, MedicationAdministration | MedicationRequest)
    concept = model.medicationCodeableConcept or record.medication_concept(
        model.medicationReference.reference if model.medicationReference else None,
        container=resource,
    )
    ingredient = identify(concept, knowledge)[0] if concept else None
    if ingredient is None or ingredient not in ingredients:
        return None
    drug = fhir.concept_text(concept) or ingredient
    problem = record.foreign_subject(model.subject)
    return (None if problem else model), Given(reference, ingredient, drug, problem=problem)


def _administered(model: MedicationAdministration | MedicationRequest | None, item: Given) -> Given:
    """One administration: its dose, given once, on its date."""
    if not isinstance(model, MedicationAdministration):
        return item
    dose = model.dosage.dose if model.dosage else None
    value = float(dose.value) if dose and dose.value is not None else None
    units = quantity_units(dose) if dose else ()
    period = model.effectivePeriod
    when = model.effectiveDateTime or (period.start if period else None)
    return replace(item, date=_day(when), course=Course(value, units, 1.0, "one administration"))


def _ordered(model: MedicationAdministration | MedicationRequest | None, item: Given) -> Given:
    """A finished order: its dose and number of doses (:func:`dosage.course`), from its date."""
    if not isinstance(model, MedicationRequest):
        return item
    timing = next((d.timing for d in model.dosageInstruction or () if d.timing), None)
    bounds = timing.repeat.boundsPeriod if timing and timing.repeat else None
    when = model.authoredOn or (bounds.start if bounds else None)
    if model.status == "stopped":  # halted before its course ended: the order cannot say how far
        problem = "stopped before its course ended; only its administrations show what was given"
        return replace(item, date=_day(when), problem=problem)
    return replace(item, date=_day(when), course=course(model.dosageInstruction))


def _day(value: Any) -> str | None:
    return str(value)[:10] if value else None


def _date(day: str | None) -> date | None:
    """A day to count months from; a partial date (2026-05) gives none."""
    try:
        return date.fromisoformat(day) if day else None
    except ValueError:
        return None


def inhibitors(medications: Iterable[Fact], knowledge: Knowledge) -> Iterable[Inhibitor]:
    for medication in medications:
        if isinstance(medication, DraftMedication):
            origin, resource = "draft", medication.order
        elif isinstance(medication, ActiveMedication):
            origin, resource = "active", medication.resource
        else:
            continue
        inhibited = knowledge.drugs.inhibits.get(medication.ingredient or "", {})
        for enzyme, strength in inhibited.items():
            yield Inhibitor(
                enzyme=enzyme,
                strength=strength,
                ingredient=medication.ingredient or "",
                drug=medication.drug,
                origin=origin,
                resource=resource,
                sources=(resource,),
            )


def identify(
    concept: CodeableConcept, knowledge: Knowledge
) -> tuple[str | None, str | None, str | None]:
    """The ingredient (or product form), the RxNorm code, and how the drug was recognised."""
    rxnorm_system = knowledge.genomics.systems["rxnorm"]
    texts = [t for t in [concept.text, *(d for _, _, d in fhir.codings(concept))] if t]
    rxnorm = None
    for system, code, _ in fhir.codings(concept):
        if system == rxnorm_system and code:
            rxnorm = rxnorm or code
            ingredient = knowledge.drugs.by_rxnorm(code)
            if ingredient:
                return knowledge.drugs.form(ingredient, texts), code, "RxNorm"
    for text in texts:
        ingredient = knowledge.drugs.by_name(text)
        if ingredient:
            return knowledge.drugs.form(ingredient, texts), rxnorm, "name"
    return None, rxnorm, None


def _raw_ingredient(concept: Any, knowledge: Knowledge) -> str | None:
    """The drug of an unvalidated concept: by code, then by its text or a coding display."""
    if not isinstance(concept, Mapping):
        return None
    codings = [c for c in concept.get("coding") or [] if isinstance(c, dict)]
    for coding in codings:
        if isinstance(coding.get("code"), str):
            found = knowledge.drugs.by_rxnorm(coding["code"])
            if found:
                return found
    for text in [concept.get("text"), *(c.get("display") for c in codings)]:
        found = knowledge.drugs.by_name(text) if isinstance(text, str) else None
        if found:
            return found
    return None
