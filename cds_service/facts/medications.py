"""Medications: the orders being entered, the ones the patient takes, and the enzymes they inhibit.

The drug of an order is found in ``rules/knowledge/drugs.yaml`` by RxNorm code, then by name;
a product form that shares its ingredient's code (liposomal irinotecan) is told apart by name.
Each known drug that inhibits an enzyme also becomes an :class:`Inhibitor` fact, which is how
a rule sees a drug-drug-gene interaction in either direction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.medicationstatement import MedicationStatement

from .. import fhir
from ..dosage import describe_timing, dose_quantity
from ..knowledge import Knowledge
from ..record import PatientRecord
from .clinical import Conditions, indication, unreadable
from .types import ActiveMedication, DraftMedication, Fact, Inhibitor

_ACTIVE_KINDS = ("MedicationRequest", "MedicationStatement")


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
        concept = order.medicationCodeableConcept or record.medication_concept(
            order.medicationReference.reference if order.medicationReference else None,
            container=resource,
        )
        if concept is None:
            continue  # a draft order with no medication chosen yet has nothing to check
        ingredient, rxnorm, how = identify(concept, knowledge)
        value, unit = dose_quantity(order.dosageInstruction)
        reasons = [
            c
            for ref in order.reasonReference or ()
            if ref.reference and (c := conditions.get(ref.reference)) is not None
        ]
        purpose = indication(knowledge, conditions, reasons, order.reasonCode or [])
        yield DraftMedication(
            order=fhir.reference_of(resource),
            drug=fhir.concept_text(concept) or ingredient or "unnamed medication",
            ingredient=ingredient,
            rxnorm=rxnorm,
            identified_by=how,
            dose_value=value,
            dose_unit=unit,
            frequency=describe_timing(order.dosageInstruction),
            indication=purpose.kind,
            indication_basis=purpose.basis,
            sources=tuple(filter(None, [fhir.reference_of(resource), purpose.condition])),
        )


def active_medications(record: PatientRecord, knowledge: Knowledge) -> Iterable[Fact]:
    """Active MedicationRequests and MedicationStatements of drugs the tables know."""
    for resource in record.resources:
        kind = resource.get("resourceType")
        if kind not in _ACTIVE_KINDS or resource.get("status") != "active":
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
            yield ActiveMedication(
                resource=reference,
                drug=fhir.concept_text(concept) or ingredient,
                ingredient=ingredient,
                sources=(reference,),
            )


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
            return ingredient, rxnorm, "name"
    return None, rxnorm, None


def _raw_ingredient(concept: Any, knowledge: Knowledge) -> str | None:
    if not isinstance(concept, Mapping):
        return None
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and isinstance(coding.get("code"), str):
            found = knowledge.drugs.by_rxnorm(coding["code"])
            if found:
                return found
    text = concept.get("text")
    return knowledge.drugs.by_name(text) if isinstance(text, str) else None
