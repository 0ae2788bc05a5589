"""Genomic findings that are not pharmacogenomic results, as the Genomics Reporting IG writes them.

The IG's somatic patient (variants in cancer genes with their diagnostic and therapeutic
implications, a ROS1 fusion, MSI-H, TMB 29.8, PD-L1), its structural variants (CNV, deletion,
inversion by coordinates, an ISCN translocation, variants written only as genomic HGVS) and its
HG00403 variants with molecular consequences are read without any "could not be read" fact:
none is a pharmacogenomic result, and each either reads or is a finding by position that no
check uses. Files: ``fixtures/fhir/genomics-reporting/`` (PROVENANCE.md).
"""

from __future__ import annotations

from typing import Any

import pytest

from cds_service import facts
from cds_service.prefetch.record import PatientRecord
from cds_service.ruleset.compiled import RuleSet
from tests.conftest import FIXTURES, Client, fixture_json
from tests.test_facts import TODAY
from tests.test_hl7_examples import cards_for, request, subject_of

FOLDER = FIXTURES / "genomics-reporting"


def by_patient() -> dict[str, list[dict[str, Any]]]:
    patients: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(FOLDER.glob("Observation-*.json")):
        observation = fixture_json(f"genomics-reporting/{path.name}")
        patients.setdefault(subject_of([observation]), []).append(observation)
    return patients


def extract(rule_set: RuleSet, patient: str) -> list[facts.Fact]:
    record = PatientRecord(patient, None, by_patient()[patient], [])
    return list(facts.extract(record, rule_set.knowledge, TODAY))


@pytest.mark.parametrize("patient", ["somaticPatient", "CGPatientExample01", "HG00403"])
def test_no_genomic_finding_is_an_unreadable_result(rule_set: RuleSet, patient: str):
    unread = [f.resource for f in extract(rule_set, patient) if isinstance(f, facts.Unreadable)]
    assert unread == []


def test_the_somatic_patients_tumour_markers_read(rule_set: RuleSet):
    found = {
        f.finding: f for f in extract(rule_set, "somaticPatient") if isinstance(f, facts.Finding)
    }
    assert found["MSI"].value == "MSI-H"  # MSIExample: 81695-9 LA26203-2
    assert found["TMB"].number == 29.8  # TMBExample: 94076-7, no unit


def test_a_variant_named_only_by_a_protein_change_still_cannot_be_placed(rule_set: RuleSet):
    """Neither a gene nor a place: said as a genomic variant, never as a pharmacogenomic result."""
    nameless = {
        "resourceType": "Observation",
        "id": "nameless",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "69548-6"}]},
        "subject": {"reference": "Patient/pt-x"},
        "valueCodeableConcept": {"coding": [{"system": "http://loinc.org", "code": "LA9633-4"}]},
        "component": [
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": "48005-3"}]},
                "valueCodeableConcept": {"text": "p.Leu858Arg"},
            }
        ],
    }
    record = PatientRecord("pt-x", None, [nameless], [])
    (note,) = [
        f
        for f in facts.extract(record, rule_set.knowledge, TODAY)
        if isinstance(f, facts.Unreadable)
    ]
    assert (note.role, note.gene) == ("variant", None)


@pytest.mark.parametrize(
    ("drug", "code"),
    [("pembrolizumab", "1547545"), ("allopurinol", "519"), ("clopidogrel", "32968")],
)
@pytest.mark.parametrize("patient", ["somaticPatient", "CGPatientExample01", "HG00403"])
def test_ordering_a_drug_gives_no_card_about_these_findings(
    client: Client, patient: str, drug: str, code: str
):
    """No cancer on file: nothing is matched; no PGx result: nothing is unreadable or asked."""
    cards = cards_for(client, request(patient, by_patient()[patient], drug, code))
    assert [c["source"]["topic"]["code"] for c in cards] == []
