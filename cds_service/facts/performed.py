"""Procedures that ``rules/knowledge/procedures.yaml`` names: done, and being ordered now.

A Procedure of the table in a status other than done (planned, stopped, entered-in-error) is
not one; one that is not valid FHIR, or belongs to another patient, becomes an
:class:`Unreadable` fact naming the procedure, so that a rule can say its check could not run.
A draft ServiceRequest whose code names a procedure of the table is that procedure being
ordered (:class:`DraftProcedure`).
"""

from __future__ import annotations

from collections.abc import Iterable

from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.servicerequest import ServiceRequest

from ..knowledge.tables import Knowledge
from ..prefetch.record import PatientRecord
from ..protocol import fhir
from .clinical import unreadable
from .types.diseasefacts import DraftProcedure, PerformedProcedure
from .types.fact import Fact


def procedures(record: PatientRecord, knowledge: Knowledge) -> Iterable[Fact]:
    table = knowledge.procedures
    named = record.by_code("Procedure", lambda c: table.procedure_of(c.codes, c.texts))
    for resource, name in named:
        if resource.get("status") not in table.statuses:
            continue
        try:
            procedure = fhir.validate(resource)
        except fhir.InvalidResource as error:
            yield unreadable(error, "Procedure", procedure=name)
            continue
        assert isinstance(procedure, Procedure)
        reference = fhir.reference_of(resource)
        problem = record.foreign_subject(procedure.subject)
        if problem:
            yield unreadable(fhir.InvalidResource(reference, problem), "Procedure", procedure=name)
            continue
        yield PerformedProcedure(
            procedure=name,
            resource=reference,
            text=fhir.concept_text(procedure.code),
            date=_performed(procedure),
            sources=(reference,),
        )


def draft_procedures(record: PatientRecord, knowledge: Knowledge) -> Iterable[Fact]:
    """One fact per draft ServiceRequest naming a procedure of the table.

    One that is not valid FHIR is an unreadable draft order naming the procedure: the rule that
    would have spoken about it cannot, and the data-quality card says so.
    """
    table = knowledge.procedures
    for resource in record.draft_orders:
        if resource.get("resourceType") != "ServiceRequest":
            continue
        name = table.procedure_of(*fhir.raw_concept(resource.get("code")))
        if name is None:
            continue
        try:
            order = fhir.validate(resource)
        except fhir.InvalidResource as error:
            yield unreadable(error, "ServiceRequest", "draft_order", procedure=name)
            continue
        assert isinstance(order, ServiceRequest)
        reference = fhir.reference_of(resource)
        yield DraftProcedure(
            order=reference,
            procedure=name,
            text=fhir.concept_text(order.code) or name,
            sources=(reference,),
        )


def _performed(procedure: Procedure) -> str | None:
    if procedure.performedDateTime:
        return str(procedure.performedDateTime)
    period = procedure.performedPeriod
    when = period and (period.end or period.start)
    return str(when) if when else None
