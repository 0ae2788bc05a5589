"""Procedures on file that ``rules/knowledge/procedures.yaml`` names: what was done, and when.

A Procedure of the table in a status other than done (planned, stopped, entered-in-error) is
not one; one that is not valid FHIR, or belongs to another patient, becomes an
:class:`Unreadable` fact naming the procedure, so that a rule can say its check could not run.
"""

from __future__ import annotations

from collections.abc import Iterable

from fhir.resources.R4B.procedure import Procedure

from ..knowledge.tables import Knowledge
from ..prefetch.record import PatientRecord
from ..protocol import fhir
from .clinical import unreadable
from .types import Fact, PerformedProcedure


def procedures(record: PatientRecord, knowledge: Knowledge) -> Iterable[Fact]:
    table = knowledge.procedures
    for resource in record.resources:
        if resource.get("resourceType") != "Procedure":
            continue
        name = table.procedure_of(*fhir.raw_concept(resource.get("code")))
        if name is None or resource.get("status") not in table.statuses:
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


def _performed(procedure: Procedure) -> str | None:
    if procedure.performedDateTime:
        return str(procedure.performedDateTime)
    period = procedure.performedPeriod
    when = period and (period.end or period.start)
    return str(when) if when else None
