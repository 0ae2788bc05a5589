"""A finding read from one result per gene product (mismatch repair by immunohistochemistry).

``rules/knowledge/oncology.yaml`` says which genes make the panel, which words show the method,
which answers mean lost or kept, and the words the finding is told in;
:mod:`cds_service.knowledge.genepanels` reads them. The latest
result per gene is used. Loss of any gene product gives the "any lost" value with the lost ones
named; every one kept gives the "all kept" value; otherwise the finding stays not on file.
"""

from __future__ import annotations

from fhir.resources.R4B.observation import Observation

from ..knowledge.genomics import Genomics
from ..knowledge.oncology import FindingSpec
from ..prefetch.record import PatientRecord
from ..protocol import fhir
from .clinical import unreadable
from .types.carefacts import Unreadable
from .types.diseasefacts import Finding


def per_gene_finding(
    record: PatientRecord, spec: FindingSpec, genomics: Genomics
) -> Finding | Unreadable | None:
    panel = spec.per_gene
    if panel is None:
        return None
    latest: dict[str, tuple[str, str, str]] = {}  # gene -> (date, state, reference)
    measured = record.by_code("Observation", lambda concept: panel.measured(concept.texts) or None)
    for resource, _ in measured:
        if resource.get("status") not in fhir.RESULT_STATUSES:
            continue
        try:
            observation = fhir.validate(resource)
        except fhir.InvalidResource as error:  # it may be the lost one: the finding is unread
            return unreadable(error, "Observation", finding=spec.name)
        assert isinstance(observation, Observation)
        if record.foreign_subject(observation.subject):
            continue
        gene = _gene(observation, genomics) or panel.gene_in(fhir.concept_words(observation.code))
        state = panel.state(*_value(observation)) if gene in panel.genes else None
        if gene is None or state is None:
            continue
        when = str(observation.effectiveDateTime or observation.issued or "")
        if gene not in latest or when > latest[gene][0]:
            latest[gene] = (when, state, f"Observation/{observation.id}")
    lost = [g for g in panel.genes if g in latest and latest[g][1] == "lost"]
    if lost:
        value = panel.any_lost
    elif all(latest.get(g, ("", ""))[1] == "kept" for g in panel.genes):
        value = panel.all_kept
    else:
        return None
    described = ", ".join(f"{g} {panel.said[latest[g][1]]}" for g in latest)
    return Finding(
        finding=spec.name,
        value=value,
        reported=f"{value} by {panel.method_said}: {described}",
        date=max(d for d, _, _ in latest.values()) or None,
        sources=tuple(r for _, _, r in latest.values()),
    )


def _gene(observation: Observation, genomics: Genomics) -> str | None:
    """The gene product named by the gene-studied component (Genomics Reporting biomarker)."""
    for component in observation.component or ():
        if fhir.has_code(component.code, genomics.gene_components):
            for system, code, display in fhir.codings(component.valueCodeableConcept):
                gene = genomics.gene_of(system, code, display)
                if gene:
                    return gene
    return None


def _value(observation: Observation) -> tuple[list[str], list[str]]:
    concept = observation.valueCodeableConcept
    codes = [code for _, code, _ in fhir.codings(concept) if code]
    texts = [*fhir.concept_words(concept), *filter(None, [observation.valueString])]
    return codes, texts
