"""FHIR resources turned into flat, typed facts, each keeping the ids of the resources it came from.

Facts are what rule conditions test and what card templates fill in. Every attribute is text or
a number, never both, so the engine cannot confuse ``"123"`` with ``123``. A resource that cannot
be read becomes an :class:`Unreadable` fact instead of disappearing, so that a check that could
not run is said on a card and never passes as "no conflict".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, ClassVar, TypeVar, get_type_hints

from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient

from . import fhir
from .dosage import describe_timing, dose_quantity
from .knowledge import Knowledge
from .record import PatientRecord

_T = TypeVar("_T")
_RESULT_STATUSES = frozenset({"final", "amended", "corrected"})


@dataclass(frozen=True, kw_only=True, slots=True)
class Fact:
    kind: ClassVar[str]
    label: ClassVar[str]
    sources: tuple[str, ...] = ()

    def engine_view(self) -> dict[str, str | float]:
        """The attributes a rule can test, without empty ones (the engine counts null as set)."""
        view: dict[str, str | float] = {"t": self.kind}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name != "sources" and value is not None:
                view[item.name] = value
        return view


@dataclass(frozen=True, kw_only=True, slots=True)
class PatientFact(Fact):
    kind = "patient"
    label = "Patient"
    patient_id: str
    sex: str | None = None
    age: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class DraftMedication(Fact):
    kind = "draft_med"
    label = "Draft order"
    order: str
    drug: str
    ingredient: str | None = None
    rxnorm: str | None = None
    identified_by: str | None = None
    dose_value: float | None = None
    dose_unit: str | None = None
    frequency: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Genotype(Fact):
    kind = "pgx_genotype"
    label = "Genotype"
    gene: str
    reported: str
    diplotype: str | None = None
    activity_score: float | None = None
    phenotype: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Phenotype(Fact):
    kind = "pgx_phenotype"
    label = "Phenotype"
    gene: str
    phenotype: str
    basis: str
    activity_score: float | None = None
    diplotype: str | None = None
    diplotype_phenotype: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class MissingResult(Fact):
    kind = "pgx_missing"
    label = "No result on file"
    gene: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Unreadable(Fact):
    kind = "unreadable"
    label = "Could not evaluate"
    resource: str
    resource_type: str
    reason: str
    role: str
    gene: str | None = None
    ingredient: str | None = None


FACT_TYPES: tuple[type[Fact], ...] = (
    PatientFact,
    DraftMedication,
    Genotype,
    Phenotype,
    MissingResult,
    Unreadable,
)


def schema() -> dict[str, dict[str, type]]:
    """Fact type -> attribute -> ``str`` or ``float``: what a rule condition may test."""
    result: dict[str, dict[str, type]] = {}
    for fact_type in FACT_TYPES:
        hints = get_type_hints(fact_type)
        result[fact_type.kind] = {
            item.name: str if str in _args(hints[item.name]) else float
            for item in fields(fact_type)
            if item.name != "sources"
        }
    return result


def _args(hint: Any) -> tuple[Any, ...]:
    return getattr(hint, "__args__", (hint,))


def extract(record: PatientRecord, knowledge: Knowledge, today: date) -> list[Fact]:
    """Every fact the rules can test, from one patient's record and draft orders."""
    facts: list[Fact] = []
    facts.extend(_patient(record, today))
    facts.extend(_draft_orders(record, knowledge))
    facts.extend(_pharmacogenomics(record, knowledge))
    return facts


def _patient(record: PatientRecord, today: date) -> Iterable[Fact]:
    if record.patient is None:
        yield PatientFact(patient_id=record.patient_id)
        return
    try:
        patient = fhir.validate(record.patient)
    except fhir.InvalidResource as error:
        yield PatientFact(patient_id=record.patient_id)
        yield _unreadable(error, "Patient", "record")
        return
    assert isinstance(patient, Patient)
    yield PatientFact(
        patient_id=record.patient_id,
        sex=patient.gender,
        age=_age(patient.birthDate, today),
        sources=(fhir.reference_of(record.patient),),
    )


def _age(birth: date | None, today: date) -> float | None:
    if birth is None:
        return None
    return float(today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day)))


def _draft_orders(record: PatientRecord, knowledge: Knowledge) -> Iterable[Fact]:
    for resource in record.draft_orders:
        if resource.get("resourceType") != "MedicationRequest":
            continue
        try:
            order = fhir.validate(resource)
        except fhir.InvalidResource as error:
            concept = resource.get("medicationCodeableConcept")
            yield _unreadable(
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
        ingredient, rxnorm, how = _identify(concept, knowledge)
        value, unit = dose_quantity(order.dosageInstruction)
        yield DraftMedication(
            order=fhir.reference_of(resource),
            drug=fhir.concept_text(concept) or ingredient or "unnamed medication",
            ingredient=ingredient,
            rxnorm=rxnorm,
            identified_by=how,
            dose_value=value,
            dose_unit=unit,
            frequency=describe_timing(order.dosageInstruction),
            sources=(fhir.reference_of(resource),),
        )


def _identify(concept: Any, knowledge: Knowledge) -> tuple[str | None, str | None, str | None]:
    rxnorm_system = knowledge.genomics.systems["rxnorm"]
    rxnorm = None
    for system, code, _ in fhir.codings(concept):
        if system == rxnorm_system and code:
            rxnorm = rxnorm or code
            ingredient = knowledge.drugs.by_rxnorm(code)
            if ingredient:
                return ingredient, code, "RxNorm"
    texts = [concept.text, *(display for _, _, display in fhir.codings(concept))]
    for text in filter(None, texts):
        ingredient = knowledge.drugs.by_name(text)
        if ingredient:
            return ingredient, rxnorm, "name"
    return None, rxnorm, None


def _raw_ingredient(concept: Any, knowledge: Knowledge) -> str | None:
    if not isinstance(concept, dict):
        return None
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and isinstance(coding.get("code"), str):
            found = knowledge.drugs.by_rxnorm(coding["code"])
            if found:
                return found
    text = concept.get("text")
    return knowledge.drugs.by_name(text) if isinstance(text, str) else None


@dataclass
class _GeneResults:
    genotypes: list[tuple[Observation, Genotype]]
    lab_phenotypes: list[tuple[Observation, str]]


def _pharmacogenomics(record: PatientRecord, knowledge: Knowledge) -> Iterable[Fact]:
    genomics = knowledge.genomics
    relevant = genomics.genotype_codes | genomics.phenotype_codes
    results: dict[str, _GeneResults] = {}
    seen_genes: set[str] = set()
    observations = [
        r
        for r in record.resources
        if r.get("resourceType") == "Observation" and fhir.raw_has_code(r.get("code"), relevant)
    ]
    genotype_genes: dict[str, str] = {}
    parsed: list[Observation] = []
    for resource in observations:
        try:
            observation = fhir.validate(resource)
        except fhir.InvalidResource as error:
            gene = _raw_gene(resource, knowledge)
            seen_genes.add(gene or "")
            yield _unreadable(error, "Observation", "record", gene=gene)
            continue
        assert isinstance(observation, Observation)
        problem = record.foreign_subject(observation.subject)
        if problem:
            yield _unreadable(
                fhir.InvalidResource(fhir.reference_of(resource), problem),
                "Observation",
                "record",
                gene=_raw_gene(resource, knowledge),
            )
            continue
        if observation.status not in _RESULT_STATUSES:
            continue
        parsed.append(observation)
        gene = _gene(observation, knowledge)
        if gene and fhir.has_code(observation.code, genomics.genotype_codes):
            genotype_genes[f"Observation/{observation.id}"] = gene

    for observation in parsed:
        reference = f"Observation/{observation.id}"
        gene = _gene(observation, knowledge) or _derived_gene(observation, genotype_genes)
        if gene is None:
            yield Unreadable(
                resource=reference,
                resource_type="Observation",
                role="record",
                reason="no gene named (component 48018-6) and none derivable",
                sources=(reference,),
            )
            continue
        seen_genes.add(gene)
        entry = results.setdefault(gene, _GeneResults([], []))
        if fhir.has_code(observation.code, genomics.genotype_codes):
            genotype = _genotype(observation, gene, knowledge)
            if genotype:
                entry.genotypes.append((observation, genotype))
        else:
            phenotype = _lab_phenotype(observation, knowledge)
            if phenotype:
                entry.lab_phenotypes.append((observation, phenotype))
            else:
                yield Unreadable(
                    resource=reference,
                    resource_type="Observation",
                    role="record",
                    gene=gene,
                    reason="phenotype value not recognised",
                    sources=(reference,),
                )

    for gene, entry in results.items():
        yield from (genotype for _, genotype in entry.genotypes)
        phenotype = _phenotype(gene, entry)
        if phenotype:
            yield phenotype
    for gene in genomics.genes:
        if gene not in seen_genes:
            yield MissingResult(gene=gene)


def _gene(observation: Observation, knowledge: Knowledge) -> str | None:
    for component in observation.component or ():
        if fhir.has_code(component.code, knowledge.genomics.gene_components):
            for system, code, display in fhir.codings(component.valueCodeableConcept):
                gene = knowledge.genomics.gene_of(system, code, display)
                if gene:
                    return gene
    return None


def _derived_gene(observation: Observation, genotype_genes: Mapping[str, str]) -> str | None:
    for parent in observation.derivedFrom or ():
        if parent.reference in genotype_genes:
            return genotype_genes[parent.reference]
    return None


def _raw_gene(resource: Mapping[str, Any], knowledge: Knowledge) -> str | None:
    for component in resource.get("component") or []:
        value = component.get("valueCodeableConcept") if isinstance(component, dict) else None
        for coding in (value or {}).get("coding") or [] if isinstance(value, dict) else []:
            if isinstance(coding, dict):
                gene = knowledge.genomics.gene_of(
                    coding.get("system"), coding.get("code"), coding.get("display")
                )
                if gene:
                    return gene
    return None


def _genotype(observation: Observation, gene: str, knowledge: Knowledge) -> Genotype | None:
    reported = fhir.concept_text(observation.valueCodeableConcept) or observation.valueString
    if not reported:
        return None
    table = knowledge.genomics.genes.get(gene)
    diplotype = table.interpret(reported) if table else None
    known = diplotype is not None and not diplotype.unknown
    return Genotype(
        gene=gene,
        reported=reported,
        diplotype=diplotype.text if known and diplotype else None,
        activity_score=diplotype.activity_score if diplotype else None,
        phenotype=diplotype.phenotype if diplotype else None,
        sources=(f"Observation/{observation.id}",),
    )


def _lab_phenotype(observation: Observation, knowledge: Knowledge) -> str | None:
    genomics = knowledge.genomics
    concepts = [observation.valueCodeableConcept] + [
        c.valueCodeableConcept
        for c in observation.component or ()
        if fhir.has_code(c.code, genomics.phenotype_value_components)
    ]
    for concept in filter(None, concepts):
        for _, code, display in fhir.codings(concept):
            phenotype = genomics.phenotype_of(code, display)
            if phenotype:
                return phenotype
        phenotype = genomics.phenotype_of(None, concept.text)
        if phenotype:
            return phenotype
    return None


def _phenotype(gene: str, entry: _GeneResults) -> Phenotype | None:
    genotype = _latest(entry.genotypes)
    lab = _latest(entry.lab_phenotypes)
    sources = tuple(
        dict.fromkeys(
            f"Observation/{obs.id}" for obs, _ in [*entry.lab_phenotypes, *entry.genotypes]
        )
    )
    derived = genotype.phenotype if genotype else None
    if lab is not None:
        consistent = genotype is not None and derived == lab
        return Phenotype(
            gene=gene,
            phenotype=lab,
            basis="lab",
            activity_score=genotype.activity_score if consistent and genotype else None,
            diplotype=genotype.diplotype if genotype else None,
            diplotype_phenotype=derived,
            sources=sources,
        )
    if genotype is None:
        return None
    return Phenotype(
        gene=gene,
        phenotype=derived or "Indeterminate",
        basis="diplotype",
        activity_score=genotype.activity_score,
        diplotype=genotype.diplotype or genotype.reported,
        sources=sources,
    )


def _latest(items: Sequence[tuple[Observation, _T]]) -> _T | None:
    if not items:
        return None
    return max(items, key=lambda item: str(item[0].effectiveDateTime or item[0].issued or ""))[1]


def _unreadable(
    error: fhir.InvalidResource,
    resource_type: str,
    role: str,
    *,
    gene: str | None = None,
    ingredient: str | None = None,
) -> Unreadable:
    return Unreadable(
        resource=error.reference,
        resource_type=resource_type,
        reason=error.reason,
        role=role,
        gene=gene,
        ingredient=ingredient,
        sources=(error.reference,),
    )
