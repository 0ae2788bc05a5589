"""Genomic variant Observations (Genomics Reporting STU1-STU3, mCODE STU4), as read for biomarkers.

A variant says which gene(s), which change and whether it was found: ``present``, or ``absent``
for a pertinent negative (a gene or change tested and not found), which is a result too and
never the biomarker. What interprets a variant is read with it: its clinical significance (a
component of the variant, or a diagnostic implication derived from it) and the drugs a lab's
therapeutic implication derived from it calls responsive. Codes come from
``rules/knowledge/biomarkers.yaml``; a variant that cannot be used becomes an
:class:`Unreadable` fact naming its gene and biomarker where they can be read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.observation import Observation

from ..knowledge.biomarkers import Biomarkers, VariantCodes, normal_code
from ..knowledge.tables import Knowledge
from ..prefetch.record import PatientRecord, relative
from ..protocol import fhir
from .clinical import unreadable
from .types.carefacts import Unreadable

PRESENT, ABSENT = "present", "absent"


@dataclass(frozen=True)
class Variant:
    reference: str
    genes: tuple[str, ...]
    found: str | None
    """``present``, ``absent``, or None when the value says neither."""
    changes: tuple[str, ...] = ()
    """The change as written: HGVS codes, variation-code displays, texts."""
    types: frozenset[fhir.Code] = frozenset()
    type_texts: tuple[str, ...] = ()
    origin: str | None = None
    significance: str | None = None
    responsive: frozenset[str] = frozenset()
    """Ingredients a lab's therapeutic implication derived from this variant calls responsive."""
    interpreted_by: tuple[str, ...] = ()
    """The Observations the significance and implications were read from."""

    def describe(self) -> str:
        """The variant as a card shows it: ``EGFR NP_005219.2:p.Leu858Arg (somatic)``.

        A change type named by its Sequence Ontology label (``gene_fusion``) is shown in words;
        HGVS changes keep their underscores (``p.E746_A750del``).
        """
        types = (text.replace("_", " ") for text in self.type_texts)
        named = next(iter([*self.changes, *types]), None)
        change = named if self.found == PRESENT else self.found
        extra = [e for e in (self.origin, self.significance) if e]
        said = " ".join(filter(None, [", ".join(self.genes), change]))
        return f"{said} ({', '.join(extra)})" if extra else said


def read(record: PatientRecord, knowledge: Knowledge) -> tuple[list[Variant], list[Unreadable]]:
    """Every result variant of this patient, interpreted, and the ones that could not be read."""
    table = knowledge.biomarkers
    codes = table.variants
    variants: dict[str, Variant] = {}
    broken: list[Unreadable] = []
    raw_genes = {
        fhir.reference_of(r): _raw_genes(r, knowledge)
        for r in record.coded("Observation", codes.codes)
    }
    for observation in _observations(record, codes.codes, broken, knowledge, raw_genes):
        variant = _variant(observation, knowledge)
        if variant.genes:
            variants[variant.reference] = variant
        elif not _placed(observation, codes):
            reason = "no gene-studied component and no location"
            broken.append(_broken(variant.reference, reason, None, table))
    interpreting = codes.interpretations | table.implications.codes
    for observation in _observations(record, interpreting, broken, knowledge, raw_genes):
        for parent in observation.derivedFrom or ():
            target = variants.get(relative(parent.reference or ""))
            if target is not None:
                variants[target.reference] = _interpret(target, observation, knowledge)
    return list(variants.values()), broken


def _observations(
    record: PatientRecord,
    codes: frozenset[fhir.Code],
    broken: list[Unreadable],
    knowledge: Knowledge,
    raw_genes: Mapping[str, tuple[str, ...]],
) -> Iterator[Observation]:
    """The patient's results with one of ``codes``; the invalid ones go to ``broken``.

    An invalid therapeutic implication is left to the pharmacogenomic reader, which reports
    every one it cannot read; an invalid variant or interpretation is reported here.
    """
    implications = knowledge.biomarkers.implications.codes
    for resource in record.coded("Observation", codes):
        if resource.get("status") not in fhir.RESULT_STATUSES:
            continue
        reference = fhir.reference_of(resource)
        genes = raw_genes.get(reference) or _parent_genes(resource, raw_genes)
        try:
            observation = fhir.validate(resource)
        except fhir.InvalidResource as error:
            if not fhir.raw_has_code(resource.get("code"), implications):
                broken.append(_broken(reference, error.reason, genes, knowledge.biomarkers))
            continue
        assert isinstance(observation, Observation)
        problem = record.foreign_subject(observation.subject)
        if problem:
            broken.append(_broken(reference, problem, genes, knowledge.biomarkers))
            continue
        yield observation


def _placed(observation: Observation, codes: VariantCodes) -> bool:
    """A variant found by position (a CNV by coordinates, an ISCN translocation), or a complex
    variant grouping member variants: no biomarker of the table is read from its gene, and its
    members are read on their own."""
    located = any(_has(c.code, codes.location) for c in observation.component or ())
    return located or bool(observation.hasMember)


def _broken(
    reference: str, reason: str, genes: Iterable[str] | None, table: Biomarkers
) -> Unreadable:
    """A variant or interpretation that cannot be used: role ``variant``, so that it is said
    as a genomic variant and never as a pharmacogenomic result."""
    genes = list(genes or ())
    biomarker = next(filter(None, map(table.of_gene, genes)), None)
    gene = next((g for g in genes if table.of_gene(g) == biomarker), None) if genes else None
    error = fhir.InvalidResource(reference, reason)
    return unreadable(error, "Observation", "variant", gene=gene, biomarker=biomarker)


def _variant(observation: Observation, knowledge: Knowledge) -> Variant:
    codes = knowledge.biomarkers.variants
    values = {code for _, code, _ in fhir.codings(observation.valueCodeableConcept)}
    found = PRESENT if values & codes.present else ABSENT if values & codes.absent else None
    genes: list[str] = []
    changes: list[str] = []
    types: set[fhir.Code] = set()
    type_texts: list[str] = []
    origin = significance = None
    for component in observation.component or ():
        kind = _kind(component.code, codes)
        concept = component.valueCodeableConcept
        if kind == "gene":
            gene = _gene(concept, knowledge)
            genes += [gene] if gene and gene not in genes else []
        elif kind == "change":
            changes.extend(_texts(concept, component.valueString, with_codes=True))
        elif kind == "type":
            types.update(normal_code(s, c) for s, c, _ in fhir.codings(concept))
            type_texts.extend(_texts(concept, component.valueString))
        elif kind == "origin":
            origin = _answer(concept, codes.origins)
        elif kind == "significance":
            significance = _answer(concept, codes.significances)
    return Variant(
        reference=f"Observation/{observation.id}",
        genes=tuple(genes),
        found=found,
        changes=tuple(dict.fromkeys(changes)),
        types=frozenset(types),
        type_texts=tuple(type_texts),
        origin=origin,
        significance=significance,
    )


def _interpret(variant: Variant, observation: Observation, knowledge: Knowledge) -> Variant:
    """The variant with what a diagnostic or therapeutic implication derived from it says."""
    codes = knowledge.biomarkers.variants
    implications = knowledge.biomarkers.implications
    significance = variant.significance
    drugs: set[str] = set()
    responsive = False
    for component in observation.component or ():
        concept = component.valueCodeableConcept
        if _has(component.code, codes.significance):
            significance = _answer(concept, codes.significances) or significance
        elif _has(component.code, implications.medication):
            drugs.update(_ingredients(concept, knowledge))
        elif _has(component.code, implications.response):
            answers = {code for _, code, _ in fhir.codings(concept)}
            responsive = responsive or bool(answers & implications.responsive)
    return replace(
        variant,
        significance=significance,
        responsive=variant.responsive | (drugs if responsive else set()),
        interpreted_by=(*variant.interpreted_by, f"Observation/{observation.id}"),
    )


def _kind(concept: CodeableConcept | None, codes: VariantCodes) -> str | None:
    for kind in ("gene", "change", "type", "origin", "significance"):
        if _has(concept, getattr(codes, kind)):
            return kind
    return None


def _has(concept: CodeableConcept | None, codes: frozenset[fhir.Code]) -> bool:
    return any(normal_code(s, c) in codes for s, c, _ in fhir.codings(concept))


def _gene(concept: CodeableConcept | None, knowledge: Knowledge) -> str | None:
    """The gene a gene component names: an HGNC id the tables know, else its symbol."""
    hgnc = knowledge.genomics.systems["hgnc"]
    for system, code, display in fhir.codings(concept):
        number = code.removeprefix("HGNC:") if code and system == hgnc else None
        gene = knowledge.biomarkers.hgnc.get(number or "") or knowledge.genomics.gene_of(
            system, code, display
        )
        if gene:
            return gene
    return None


def _raw_genes(resource: Mapping[str, Any], knowledge: Knowledge) -> tuple[str, ...]:
    """The genes of a variant as sent, for naming one that does not validate."""
    found: list[str] = []
    for value in fhir.raw_component_values(resource, knowledge.biomarkers.variants.gene):
        try:
            concept = CodeableConcept.model_validate(value) if isinstance(value, dict) else None
        except ValueError:
            continue
        gene = _gene(concept, knowledge)
        found += [gene] if gene and gene not in found else []
    return tuple(found)


def _parent_genes(
    resource: Mapping[str, Any], raw_genes: Mapping[str, tuple[str, ...]]
) -> tuple[str, ...]:
    parents = resource.get("derivedFrom") or []
    return tuple(
        gene
        for parent in parents
        if isinstance(parent, dict) and isinstance(parent.get("reference"), str)
        for gene in raw_genes.get(relative(parent["reference"]), ())
    )


def _texts(
    concept: CodeableConcept | None, text: str | None, *, with_codes: bool = False
) -> list[str]:
    found = [c for _, c, _ in fhir.codings(concept) if c] if with_codes else []
    found += [d for _, _, d in fhir.codings(concept) if d]
    found += [t for t in (concept.text if concept else None, text) if t]
    return found


def _answer(concept: CodeableConcept | None, answers: Mapping[str, str]) -> str | None:
    """The table's word for a coded answer, else the answer's text if it is one of those words."""
    for _, code, _ in fhir.codings(concept):
        if code in answers:
            return answers[code]
    words = {value.lower(): value for value in answers.values()}
    for text in _texts(concept, None):
        if text.strip().lower() in words:
            return words[text.strip().lower()]
    return None


def _ingredients(concept: CodeableConcept | None, knowledge: Knowledge) -> set[str]:
    drugs = knowledge.drugs
    found = {drugs.by_rxnorm(code) for _, code, _ in fhir.codings(concept) if code}
    found |= {drugs.by_name(text) for text in _texts(concept, None)}
    return {ingredient for ingredient in found if ingredient}
