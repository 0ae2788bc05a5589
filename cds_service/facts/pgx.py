"""Pharmacogenomic results: genotypes, phenotypes, combined phenotypes and genes never tested.

Every shape the Genomics Reporting IG has used is read through ``rules/knowledge/genomics.yaml``:
genotype Observations with the diplotype as text or as a PharmVar/ClinVar coding, STU1
phenotypes (53040-2), STU2/STU3 therapeutic implications, gene-specific phenotype codes. A lab
phenotype takes precedence over the one derived from the diplotype; when both exist the fact
says whether they agree. For genes with inhibitor factors the effective activity score after
the patient's inhibitors is computed (phenoconversion). An implication derived from a somatic
variant (an EGFR inhibitor "responsive") takes the variant's gene and is left to the biomarker
reader (``facts/variants.py``) unless that gene is one of the pharmacogenes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fhir.resources.R4B.observation import Observation

from ..knowledge.alleles import INDETERMINATE, AlleleTable
from ..knowledge.genomics import GeneGroup
from ..knowledge.tables import Knowledge
from ..knowledge.words import word_pattern
from ..prefetch.record import PatientRecord, relative
from ..protocol import fhir
from .clinical import tests_ordered, unreadable
from .types.carefacts import Unreadable
from .types.drugfacts import Inhibitor
from .types.fact import Fact
from .types.pgxfacts import Genotype, MissingResult, Phenotype, PhenotypeGroup

_T = TypeVar("_T")


@dataclass
class _GeneResults:
    genotypes: list[tuple[Observation, Genotype]] = field(default_factory=list)
    lab_phenotypes: list[tuple[Observation, str]] = field(default_factory=list)
    measured: dict[str, str] = field(default_factory=dict)
    """Observation reference -> the enzyme activity as read (it stands for a diplotype)."""


def pharmacogenomics(
    record: PatientRecord, knowledge: Knowledge, inhibitors: Sequence[Inhibitor]
) -> Iterable[Fact]:
    genomics = knowledge.genomics
    results: dict[str, _GeneResults] = {}
    seen_genes: set[str] = set()
    parsed: list[Observation] = []
    parent_genes: dict[str, str] = {}
    """Genotypes and variants by reference, with their gene: implications derive from them."""
    activity_codes = frozenset(c for a in genomics.activities for c in a.codes)
    relevant = genomics.genotype_codes | genomics.phenotype_codes | activity_codes
    gender = (record.patient or {}).get("gender")
    sex = gender if isinstance(gender, str) else None
    """Patient.gender as sent: activity limits differ by sex (a malformed one reads as unknown)."""
    variant_codes = knowledge.biomarkers.variants.codes

    def role(concept: fhir.RawConcept) -> str | None:
        if concept.has_code(variant_codes):
            return "variant"
        return "result" if concept.has_code(relevant) else None

    genotype_references = {
        fhir.reference_of(r) for r in record.coded("Observation", genomics.genotype_codes)
    }
    for resource, kind in record.by_code("Observation", role):
        if kind == "variant":
            gene = _raw_gene(resource, knowledge)  # the variant reader validates it
            if gene:
                parent_genes[fhir.reference_of(resource)] = gene
            continue
        try:
            observation = fhir.validate(resource)
        except fhir.InvalidResource as error:
            gene = _raw_gene(resource, knowledge)
            seen_genes.add(gene or "")
            yield unreadable(error, "Observation", gene=gene)
            continue
        assert isinstance(observation, Observation)
        problem = record.foreign_subject(observation.subject)
        if problem:
            error = fhir.InvalidResource(fhir.reference_of(resource), problem)
            yield unreadable(error, "Observation", gene=_raw_gene(resource, knowledge))
            continue
        if observation.status not in fhir.RESULT_STATUSES:
            continue
        parsed.append(observation)
        gene = _gene(observation, knowledge)
        if gene and fhir.has_code(observation.code, genomics.genotype_codes):
            parent_genes[f"Observation/{observation.id}"] = gene

    on_file: set[str] | None = None
    """Every Observation's reference, made when an implication without a gene needs them."""
    for observation in parsed:
        reference = f"Observation/{observation.id}"
        gene = _gene(observation, knowledge) or _derived_gene(observation, parent_genes)
        if gene is None:
            if on_file is None:
                on_file = {fhir.reference_of(r) for r in record.of_type("Observation")}
            # a TMB's or a located variant's implication is the biomarker readers' own
            if not _derived_from_other(observation, on_file, genotype_references):
                yield _not_read(reference, None, "no gene-studied component and none derivable")
            continue
        seen_genes.add(gene)
        entry = results.setdefault(gene, _GeneResults())
        activity = genomics.activity_of(fhir.codes_of(observation.code))
        if activity is not None:
            phenotype, read = activity.read(
                observation.valueQuantity, observation.referenceRange or [], sex
            )
            if phenotype is None:
                yield _not_read(reference, gene, f"enzyme activity {read}")
                continue
            entry.lab_phenotypes.append((observation, phenotype))
            entry.measured[reference] = f"enzyme activity {read}"
        elif fhir.has_code(observation.code, genomics.genotype_codes):
            genotype = _genotype(observation, gene, knowledge)
            if genotype:
                entry.genotypes.append((observation, genotype))
        else:
            phenotype = _lab_phenotype(observation, knowledge)
            if phenotype:
                entry.lab_phenotypes.append((observation, phenotype))
            elif gene in genomics.genes:  # e.g. HLA-B "High risk" for carbamazepine
                yield _not_read(reference, gene, "phenotype value not recognised")

    phenotypes: dict[str, Phenotype] = {}
    for gene, entry in results.items():
        yield from (genotype for _, genotype in entry.genotypes)
        phenotype = _phenotype(gene, entry, genomics.genes.get(gene), inhibitors)
        if phenotype:
            phenotypes[gene] = phenotype
            yield phenotype
    for group in genomics.groups:
        combined = _group(group, phenotypes)
        if combined:
            yield combined
    genes = knowledge.genomics.genes
    wanted = {gene: (word_pattern(gene),) for gene in genes}
    orders = tests_ordered(record, knowledge.genomics.test_order_statuses, wanted)
    for gene in genomics.genes:
        if gene not in seen_genes:
            yield MissingResult(gene=gene, test_ordered=orders.get(gene))


def _not_read(reference: str, gene: str | None, reason: str) -> Unreadable:
    return unreadable(fhir.InvalidResource(reference, reason), "Observation", gene=gene)


def _gene(observation: Observation, knowledge: Knowledge) -> str | None:
    genomics = knowledge.genomics
    for component in observation.component or ():
        if fhir.has_code(component.code, genomics.gene_components):
            for system, code, display in fhir.codings(component.valueCodeableConcept):
                gene = genomics.gene_of(system, code, display)
                if gene:
                    return gene
    for system, code, _ in fhir.codings(observation.code):
        gene = genomics.code_genes.get((system or "", code or ""))
        if gene:
            return gene
    activity = genomics.activity_of(fhir.codes_of(observation.code))
    return activity.gene if activity else None


def _derived_gene(observation: Observation, parent_genes: Mapping[str, str]) -> str | None:
    for parent in observation.derivedFrom or ():
        if parent.reference in parent_genes:
            return parent_genes[parent.reference]
    return None


def _derived_from_other(observation: Observation, on_file: Set[str], genotypes: Set[str]) -> bool:
    """An implication derived from results on file none of which is a genotype.

    It interprets a tumour finding (TMB, MSI) or a variant located by position, not a
    pharmacogenomic result; an implication whose parents are not on file may still be one.
    """
    parents = [relative(p.reference or "") for p in observation.derivedFrom or ()]
    known = [p in genotypes for p in parents if p in on_file]
    return bool(known) and not any(known)


def _raw_gene(resource: Mapping[str, Any], knowledge: Knowledge) -> str | None:
    """The gene of an unvalidated result, from its gene-studied component, to name it."""
    genomics = knowledge.genomics
    for value in fhir.raw_component_values(resource, genomics.gene_components):
        for coding in value.get("coding") or [] if isinstance(value, Mapping) else []:
            if isinstance(coding, Mapping):
                gene = genomics.gene_of(
                    coding.get("system"), coding.get("code"), coding.get("display")
                )
                if gene:
                    return gene
    return None


def _genotype(observation: Observation, gene: str, knowledge: Knowledge) -> Genotype | None:
    concept = observation.valueCodeableConcept
    codes = [code for _, code, _ in fhir.codings(concept) if code]
    # a GL String or a ClinVar id coded without a display is still a result: read its code
    reported = fhir.concept_text(concept) or observation.valueString or next(iter(codes), None)
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


def _phenotype(
    gene: str,
    entry: _GeneResults,
    table: AlleleTable | None,
    inhibitors: Sequence[Inhibitor],
) -> Phenotype | None:
    genotype = _unphased(entry.genotypes, table) or _latest(entry.genotypes)
    latest_lab = max(entry.lab_phenotypes, key=_when, default=None)
    lab = latest_lab[1] if latest_lab else None
    measured = entry.measured.get(f"Observation/{latest_lab[0].id}") if latest_lab else None
    sources = tuple(
        dict.fromkeys(
            f"Observation/{obs.id}" for obs, _ in [*entry.lab_phenotypes, *entry.genotypes]
        )
    )
    derived = genotype.phenotype if genotype else None
    if lab is not None:
        comparable = derived is not None and derived != INDETERMINATE
        consistent = comparable and derived == lab
        phenotype, basis = lab, "lab"
        score = genotype.activity_score if consistent and genotype else None
        diplotype = measured or (genotype.diplotype if genotype else None)
        concordance = ("concordant" if consistent else "discordant") if comparable else None
    elif genotype is not None:
        phenotype, basis = derived or INDETERMINATE, "diplotype"
        score, diplotype = genotype.activity_score, genotype.diplotype or genotype.reported
        concordance = None
    else:
        return None
    effective = _phenoconversion(gene, table, phenotype, score, inhibitors)
    return Phenotype(
        gene=gene,
        phenotype=phenotype,
        basis=basis,
        activity_score=score,
        diplotype=diplotype,
        diplotype_phenotype=derived if basis == "lab" else None,
        concordance=concordance,
        effective_activity_score=effective[0],
        effective_phenotype=effective[1],
        inhibited_by=effective[2],
        sources=(*sources, *(i.resource for i in inhibitors if i.enzyme == gene)),
    )


def _unphased(
    genotypes: Sequence[tuple[Observation, Genotype]], table: AlleleTable | None
) -> Genotype | None:
    """Two variants each reported heterozygous on its own, read together (CPIC, PharmCAT).

    Separate reports do not say whether the variants sit on one chromosome or on both. Where
    the gene's allele table says so (``unphased_heterozygous``: CPIC and PharmCAT for DPYD), they
    are read as on different chromosomes, the lower activity, and the diplotype says it was
    assumed in the table's words.
    """
    if table is None or table.unphased is None or len(genotypes) < 2:
        return None
    variants: dict[str, Genotype] = {}
    for _, genotype in genotypes:
        alleles = (genotype.diplotype or "").split("/")
        if len(alleles) != 2 or alleles.count(table.reference) != 1:
            return None  # a full diplotype, or a homozygous variant: nothing to combine
        variants.setdefault(next(a for a in alleles if a != table.reference), genotype)
    if len(variants) != 2:
        return None
    first, second = variants
    read = table.interpret(f"{first}/{second}")
    return Genotype(
        gene=table.gene,
        reported="; ".join(g.reported for g in variants.values()),
        diplotype=f"{read.text} ({table.unphased})",
        activity_score=read.activity_score,
        phenotype=read.phenotype,
        sources=tuple(s for g in variants.values() for s in g.sources),
    )


def _phenoconversion(
    gene: str,
    table: AlleleTable | None,
    phenotype: str,
    score: float | None,
    inhibitors: Sequence[Inhibitor],
) -> tuple[float | None, str | None, str | None]:
    """The effective activity score and phenotype under the strongest inhibitor on file.

    Without a score (a lab phenotype only), only a factor of 0 gives a number; a weaker
    inhibitor leaves the effective score unknown rather than guessed.
    """
    if table is None or not table.inhibitor_factors:
        return None, None, None
    acting = [i for i in inhibitors if i.enzyme == gene]
    named = ", ".join(f"{i.ingredient} ({i.strength})" for i in acting) or None
    factor = min((table.inhibitor_factors.get(i.strength, 1.0) for i in acting), default=1.0)
    if factor == 1.0:
        return score, phenotype, named
    effective = score * factor if score is not None else (0.0 if factor == 0 else None)
    if effective is None:
        return None, None, named
    return effective, table.phenotype_for(effective), named


def _group(group: GeneGroup, phenotypes: Mapping[str, Phenotype]) -> PhenotypeGroup | None:
    known = [phenotypes[gene] for gene in group.genes if gene in phenotypes]
    if not known:
        return None
    reduced = [p for p in known if p.phenotype in group.reduced]
    worst = min(reduced, key=lambda p: group.reduced.index(p.phenotype), default=None)
    described = ", ".join(
        f"{gene} {phenotypes[gene].phenotype if gene in phenotypes else 'no result'}"
        for gene in group.genes
    )
    return PhenotypeGroup(
        group=group.name,
        phenotypes=described,
        reduced=float(len(reduced)),
        worst_phenotype=worst.phenotype if worst else None,
        worst_gene=worst.gene if worst else None,
        sources=tuple(dict.fromkeys(s for p in known for s in p.sources)),
    )


def _latest(items: Sequence[tuple[Observation, _T]]) -> _T | None:
    return max(items, key=_when)[1] if items else None


def _when(item: tuple[Observation, Any]) -> str:
    return str(item[0].effectiveDateTime or item[0].issued or "")
