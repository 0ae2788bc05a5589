"""The published Genomics Reporting and Genomics Operations examples, as the service reads them.

Every PGx example copied into ``fixtures/fhir/hl7-examples/`` must be read without a
"could not evaluate" note, and those naming a drug the rules know must give the right card.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from cds_service import facts
from cds_service.prefetch.record import PatientRecord
from cds_service.ruleset.compiled import RuleSet
from tests.conftest import FIXTURES, Client, fixture_json
from tests.test_facts import TODAY

EXAMPLES = sorted(p.name for p in (FIXTURES / "hl7-examples").glob("*.json"))
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def observations(document: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The Observations of a resource, a Bundle or an operation's Parameters."""
    if document.get("resourceType") == "Observation":
        yield dict(document)
    for entry in document.get("entry") or []:
        yield from observations(entry.get("resource") or {})
    for parameter in document.get("parameter") or []:
        yield from observations(parameter.get("resource") or {})
        for part in parameter.get("part") or []:
            yield from observations(part.get("resource") or {})


def subject_of(found: list[dict[str, Any]]) -> str:
    (subject,) = {o["subject"]["reference"] for o in found}
    return subject.split("/")[1]


def by_patient() -> dict[str, list[dict[str, Any]]]:
    """Every example Observation, by patient: implications are read with their genotypes."""
    patients: dict[str, list[dict[str, Any]]] = {}
    for name in EXAMPLES:
        for observation in observations(fixture_json(f"hl7-examples/{name}")):
            patients.setdefault(subject_of([observation]), []).append(observation)
    return patients


def test_every_example_is_read_without_errors(rule_set: RuleSet):
    patients = by_patient()
    assert sorted(patients) == ["CGPatientExample01", "ExamplePatient", "NB6TK328"]
    for patient, found in patients.items():
        record = PatientRecord(patient, None, found, [])
        extracted = facts.extract(record, rule_set.knowledge, TODAY)
        unread = [(f.resource, f.gene) for f in extracted if isinstance(f, facts.Unreadable)]
        # HLA-B "High risk" for carbamazepine (HLA-B*15:02) says nothing of HLA-B*58:01: it
        # stays unread, and only an allopurinol order is asked to check it (hla-b-allopurinol)
        carbamazepine = [("Observation/TherapeuticImplicationExample1", "HLA-B")]
        assert unread == (carbamazepine if patient == "CGPatientExample01" else []), patient
        assert any(isinstance(f, facts.Phenotype) for f in extracted), patient


def test_ig_examples_give_the_lab_phenotypes(rule_set: RuleSet):
    found = by_patient()["CGPatientExample01"]
    record = PatientRecord("CGPatientExample01", None, found, [])
    extracted = facts.extract(record, rule_set.knowledge, TODAY)
    phenotypes = {f.gene: f.phenotype for f in extracted if isinstance(f, facts.Phenotype)}
    assert phenotypes["CYP2C19"] == "Poor metabolizer"  # TxImp01-05 derive from Pgx-geno-1001
    assert phenotypes["CYP2D6"] == "Intermediate metabolizer"  # *7.001/*1.001: AS 1


def search(resources: list[dict[str, Any]]) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": 0}
    if resources:
        bundle.update(total=len(resources), entry=[{"resource": r} for r in resources])
    return bundle


def request(
    patient: str, pgx: list[dict[str, Any]], drug: str, code: str, active: list[dict] = ()
) -> dict[str, Any]:
    order = {
        "resourceType": "MedicationRequest",
        "id": "draft-1",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient}"},
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": code, "display": drug}]
        },
    }
    return {
        "hook": "order-sign",
        "hookInstance": "3f1d3f0a-6c7e-4a55-9d8e-2f7c9b0e1a11",
        "context": {
            "userId": "Practitioner/p",
            "patientId": patient,
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": order}]},
        },
        "prefetch": {
            "patient": None,
            "pgx": search(pgx),
            "medications": search([]),
            "statements": search(list(active)),
            "conditions": search([]),
            "tests": search([]),
            "oncology": search([]),
            "procedures": search([]),
            "genomics": search([]),
            "administrations": search([]),
            "history": search([]),
        },
    }


def cards_for(client: Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post("/cds-services/oncology-order-sign", json=body)
    assert response.status_code == 200, response.text
    return response.json()["cards"]


def genomics_operations() -> tuple[str, list[dict[str, Any]]]:
    found = list(
        observations(
            fixture_json("hl7-examples/genomics-operations_find_subject_tx_implications_4.json")
        )
    )
    return subject_of(found), found


def test_genomics_operations_cyp2d6_normal_metabolizer_and_tamoxifen(client: Client):
    """CYP2D6 *1/*41 is activity score 1.25, a normal metabolizer as the server says: no card."""
    patient, found = genomics_operations()
    assert cards_for(client, request(patient, found, "tamoxifen", "10324")) == []


def test_genomics_operations_patient_on_paroxetine_gets_the_phenoconversion_card(
    client: Client,
):
    patient, found = genomics_operations()
    paroxetine = {
        "resourceType": "MedicationStatement",
        "id": "paroxetine",
        "status": "active",
        "subject": {"reference": f"Patient/{patient}"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "32937"}]},
    }
    body = request(patient, found, "tamoxifen", "10324", [paroxetine])
    (card,) = cards_for(client, body)
    assert card["source"]["topic"]["code"] == "cyp2d6-inhibitor-with-tamoxifen"
    assert "AS 1.25 to 0" in card["summary"]
    assert "MedicationStatement/paroxetine" in card["detail"]


def test_ig_pgx_bundle_with_mercaptopurine_asks_for_tpmt_and_nudt15(client: Client):
    """The IG pairs a CYP2C9 result with mercaptopurine: no dose card, the tests are missing."""
    found = list(observations(fixture_json("hl7-examples/Bundle-bundle-pgxexample.json")))
    cards = cards_for(client, request(subject_of(found), found, "mercaptopurine", "103"))
    assert sorted(c["source"]["topic"]["code"] for c in cards) == [
        "nudt15-test-first",
        "tpmt-test-first",
    ]
