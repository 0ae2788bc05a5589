"""Pharmacogenomic facts: genotypes, phenotypes (and phenoconversion), combined phenotypes,
results not on file."""

from __future__ import annotations

from dataclasses import dataclass

from .fact import Fact


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
    concordance: str | None = None
    """``concordant`` or ``discordant`` when the lab and the diplotype both give a phenotype."""
    effective_activity_score: float | None = None
    """The activity score after the inhibitors on file and on order (phenoconversion)."""
    effective_phenotype: str | None = None
    inhibited_by: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class PhenotypeGroup(Fact):
    kind = "pgx_group"
    label = "Combined phenotype"
    group: str
    phenotypes: str
    reduced: float
    """How many genes of the group have a reduced-function phenotype."""
    worst_phenotype: str | None = None
    worst_gene: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class MissingResult(Fact):
    kind = "pgx_missing"
    label = "No result on file"
    gene: str
    test_ordered: str | None = None
    """The ServiceRequest (and its status) when the test is already ordered."""
