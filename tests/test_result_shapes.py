"""DPYD, UGT1A1, CYP2D6 and G6PD results in the shapes public examples use, read end to end.

Each shape is a published HL7 Genomics Reporting IG 3.0.0 example (fixtures/fhir/hl7-examples,
CC0; fixtures/fhir/PROVENANCE.md) with only its gene and its value changed, so the structure is
exactly what a lab following the IG sends:

- ``Pgx-geno-1001``: genotype with the diplotype as a coding display ("CYP2C19*2/*2", ClinVar);
- ``GenotypeExamplePharmVar``: genotype with the diplotype as text, PharmVar suballeles and the
  gene on each allele ("CYP2D6*7.001 / CYP2D6*1.001");
- ``TxImp01``: therapeutic implication with a LOINC answer code (STU2/STU3), or text.

The values are the common results of each gene (CPIC frequency tables) written as labs write
them; the phenotype each must give is CPIC's.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cds_service import facts
from cds_service.prefetch.record import PatientRecord
from cds_service.ruleset.compiled import RuleSet
from tests.conftest import fixture_json
from tests.test_facts import TODAY

HGNC = {"DPYD": "HGNC:3012", "UGT1A1": "HGNC:12530", "CYP2D6": "HGNC:2625", "G6PD": "HGNC:4057"}
PATIENT = "CGPatientExample01"


def _gene(resource: dict[str, Any], gene: str) -> None:
    """Set the gene-studied component (TxImp01 has none: its gene comes from derivedFrom)."""
    coding = {"system": "http://www.genenames.org", "code": HGNC[gene], "display": gene}
    studied = {"code": {"coding": [{"system": "http://loinc.org", "code": "48018-6"}]}}
    others = [c for c in resource["component"] if c["code"]["coding"][0]["code"] != "48018-6"]
    resource["component"] = [*others, {**studied, "valueCodeableConcept": {"coding": [coding]}}]


def coded_genotype(gene: str, value: str) -> dict[str, Any]:
    resource = copy.deepcopy(fixture_json("hl7-examples/Observation-Pgx-geno-1001.json"))
    resource.pop("derivedFrom", None)
    resource["valueCodeableConcept"] = {"coding": [{"display": value}]}
    _gene(resource, gene)
    return resource


def text_genotype(gene: str, value: str) -> dict[str, Any]:
    path = "hl7-examples/Observation-GenotypeExamplePharmVar.json"
    resource = copy.deepcopy(fixture_json(path))
    resource.pop("derivedFrom", None)
    resource["valueCodeableConcept"] = {"text": value}
    _gene(resource, gene)
    return resource


def implication(gene: str, value: str) -> dict[str, Any]:
    resource = copy.deepcopy(fixture_json("hl7-examples/Observation-TxImp01.json"))
    resource.pop("derivedFrom", None)
    codes = {"Poor metabolizer": "LA9657-3", "Intermediate metabolizer": "LA10317-8"}
    for component in resource["component"]:
        if component["code"]["coding"][0]["code"] == "therapeutic-implication":
            component["valueCodeableConcept"] = (
                {"coding": [{"system": "http://loinc.org", "code": codes[value], "display": value}]}
                if value in codes
                else {"text": f"{gene} {value}"}
            )
    _gene(resource, gene)
    return resource


SHAPES = [
    (coded_genotype, "DPYD", "DPYD c.1905+1G>A/Reference", "Intermediate metabolizer"),
    (coded_genotype, "DPYD", "DPYD*2A/*2A", "Poor metabolizer"),
    (text_genotype, "DPYD", "c.1679T>G (*13) / Reference", "Intermediate metabolizer"),
    (text_genotype, "DPYD", "DPYD c.2846A>T / DPYD c.2846A>T", "Intermediate metabolizer"),
    (text_genotype, "DPYD", "c.1129-5923C>G heterozygous", "Intermediate metabolizer"),
    (implication, "DPYD", "Poor metabolizer", "Poor metabolizer"),
    (coded_genotype, "UGT1A1", "UGT1A1*28/*28", "Poor metabolizer"),
    (coded_genotype, "UGT1A1", "UGT1A1*1/*28", "Intermediate metabolizer"),
    (text_genotype, "UGT1A1", "UGT1A1*6 / UGT1A1*28", "Poor metabolizer"),
    (text_genotype, "UGT1A1", "(TA)7/(TA)7", "Poor metabolizer"),
    (implication, "UGT1A1", "Intermediate metabolizer", "Intermediate metabolizer"),
    (coded_genotype, "CYP2D6", "CYP2D6*4/*4", "Poor metabolizer"),
    (coded_genotype, "CYP2D6", "CYP2D6*1/*2x2", "Ultrarapid metabolizer"),
    (text_genotype, "CYP2D6", "CYP2D6*1.001 / CYP2D6*4.001", "Intermediate metabolizer"),
    (text_genotype, "CYP2D6", "CYP2D6*10 / CYP2D6*41", "Intermediate metabolizer"),
    (implication, "CYP2D6", "Poor metabolizer", "Poor metabolizer"),
    (coded_genotype, "G6PD", "G6PD A-", "Deficient"),
    (text_genotype, "G6PD", "G6PD B / G6PD A-", "Variable"),
    (text_genotype, "G6PD", "Mediterranean hemizygous", "Deficient"),
    (implication, "G6PD", "Deficient", "Deficient"),
]


@pytest.mark.parametrize(
    ("shape", "gene", "value", "phenotype"),
    SHAPES,
    ids=[f"{shape.__name__}: {value}" for shape, _, value, _ in SHAPES],
)
def test_public_shape_reads_to_the_cpic_phenotype(
    rule_set: RuleSet, shape: Any, gene: str, value: str, phenotype: str
):
    record = PatientRecord(PATIENT, None, [shape(gene, value)], [])
    found = facts.extract(record, rule_set.knowledge, TODAY)
    assert not [f for f in found if isinstance(f, facts.Unreadable)]
    read = {f.gene: f.phenotype for f in found if isinstance(f, facts.Phenotype)}
    assert read.get(gene) == phenotype
