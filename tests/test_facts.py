"""FHIR to facts: the shapes real labs and EHRs send, and what happens when they are wrong."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from cds_service import facts
from cds_service.prefetch.record import PatientRecord
from cds_service.ruleset.compiled import RuleSet
from tests.conftest import fixture_json

TODAY = date(2026, 11, 21)
PATIENT = "pt-1"


def genotype(text: str, gene_code: str = "HGNC:3012", ident: str = "g1", **extra: Any) -> dict:
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "84413-4"}]},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "valueCodeableConcept": {"text": text},
        "component": [
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": "48018-6"}]},
                "valueCodeableConcept": {
                    "coding": [
                        {"system": "http://www.genenames.org", "code": gene_code, "display": "DPYD"}
                    ]
                },
            }
        ],
        **extra,
    }


def implication(answer: str, component: str = "therapeutic-implication") -> dict:
    tbd = "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs"
    return {
        "resourceType": "Observation",
        "id": "p1",
        "status": "final",
        "code": {"coding": [{"system": tbd, "code": "therapeutic-implication"}]},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "derivedFrom": [{"reference": "Observation/g1"}],
        "component": [
            {
                "code": {"coding": [{"system": tbd, "code": component}]},
                "valueCodeableConcept": {
                    "coding": [{"system": "http://loinc.org", "code": answer}]
                },
            }
        ],
    }


def order(concept: dict, **extra: Any) -> dict:
    return {
        "resourceType": "MedicationRequest",
        "id": "o1",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "medicationCodeableConcept": concept,
        **extra,
    }


def extract(rule_set: RuleSet, resources=(), orders=()) -> list[facts.Fact]:
    record = PatientRecord(PATIENT, None, list(resources), list(orders))
    return facts.extract(record, rule_set.knowledge, TODAY)


def only(found: list[facts.Fact], kind: type[facts.Fact]) -> Any:
    (fact,) = [f for f in found if isinstance(f, kind)]
    return fact


@pytest.mark.parametrize(
    ("text", "diplotype", "score", "phenotype"),
    [
        ("*2A/*13", "c.1905+1G>A/c.1679T>G", 0.0, "Poor metabolizer"),
        ("DPYD c.1905+1G>A/Reference", "c.1905+1G>A/Reference", 1.0, "Intermediate metabolizer"),
        ("c.2846A>T heterozygous", "c.2846A>T/Reference", 1.5, "Intermediate metabolizer"),
        ("c.2846A>T homozygous", "c.2846A>T/c.2846A>T", 1.0, "Intermediate metabolizer"),
        ("rs3918290 / rs67376798", "c.1905+1G>A/c.2846A>T", 0.5, "Poor metabolizer"),
        ("*1/*1", "Reference/Reference", 2.0, "Normal metabolizer"),
        ("HapB3/Reference", "HapB3/Reference", 1.5, "Intermediate metabolizer"),
    ],
)
def test_diplotype_text_gives_activity_score_and_phenotype(
    rule_set, text, diplotype, score, phenotype
):
    found = extract(rule_set, [genotype(text)])
    derived = only(found, facts.Phenotype)
    assert (derived.diplotype, derived.activity_score, derived.phenotype) == (
        diplotype,
        score,
        phenotype,
    )
    assert derived.basis == "diplotype"
    assert derived.sources == ("Observation/g1",)


def test_hgnc_without_prefix(rule_set):
    found = extract(rule_set, [genotype("*2A/*13", gene_code="3012")])
    assert only(found, facts.Phenotype).gene == "DPYD"


def test_unknown_allele_is_indeterminate_not_normal(rule_set):
    found = extract(rule_set, [genotype("*99/Reference")])
    phenotype = only(found, facts.Phenotype)
    assert phenotype.phenotype == "Indeterminate"
    assert phenotype.activity_score is None


@pytest.mark.parametrize(
    "component", ["therapeutic-implication", "predicted-therapeutic-implication"]
)
def test_lab_phenotype_takes_precedence_and_keeps_a_consistent_score(rule_set, component):
    found = extract(rule_set, [genotype("*2A/Reference"), implication("LA10317-8", component)])
    phenotype = only(found, facts.Phenotype)
    assert (phenotype.phenotype, phenotype.basis, phenotype.activity_score) == (
        "Intermediate metabolizer",
        "lab",
        1.0,
    )


def test_lab_phenotype_against_its_diplotype_drops_the_score(rule_set):
    found = extract(rule_set, [genotype("*2A/*13"), implication("LA10317-8")])
    phenotype = only(found, facts.Phenotype)
    assert phenotype.phenotype == "Intermediate metabolizer"
    assert phenotype.activity_score is None
    assert phenotype.diplotype_phenotype == "Poor metabolizer"


def test_stu1_phenotype_with_gene_component(rule_set):
    stu1 = copy.deepcopy(genotype("x"))
    stu1.update(
        id="s1",
        code={"coding": [{"system": "http://loinc.org", "code": "53040-2"}]},
        valueCodeableConcept={"coding": [{"system": "http://loinc.org", "code": "LA9657-3"}]},
    )
    phenotype = only(extract(rule_set, [stu1]), facts.Phenotype)
    assert (phenotype.gene, phenotype.phenotype) == ("DPYD", "Poor metabolizer")


def test_no_result_is_a_missing_fact_per_gene(rule_set):
    missing = [f for f in extract(rule_set) if isinstance(f, facts.MissingResult)]
    assert {f.gene for f in missing} == {
        *("DPYD", "UGT1A1", "CYP2D6", "TPMT", "NUDT15"),
        *("G6PD", "HLA-B", "CYP2C19", "CYP3A5"),
    }
    assert all(f.test_ordered is None for f in missing)


def test_invalid_observation_is_unreadable_and_not_missing(rule_set):
    broken = genotype("*2A/*13", effectiveDateTime="2024-04-28T08:30:00")
    found = extract(rule_set, [broken])
    unreadable = only(found, facts.Unreadable)
    assert (unreadable.gene, unreadable.resource) == ("DPYD", "Observation/g1")
    assert "effectiveDateTime" in unreadable.reason
    assert "DPYD" not in {f.gene for f in found if isinstance(f, facts.MissingResult)}


def test_another_patients_result_is_not_used(rule_set):
    foreign = genotype("*2A/*13", subject={"reference": "Patient/someone-else"})
    unreadable = only(extract(rule_set, [foreign]), facts.Unreadable)
    assert "Patient/someone-else" in unreadable.reason


def test_entered_in_error_result_is_ignored(rule_set):
    found = extract(rule_set, [genotype("*2A/*13", status="entered-in-error")])
    assert not [f for f in found if isinstance(f, facts.Phenotype)]


@pytest.mark.parametrize(
    ("concept", "ingredient", "how"),
    [
        (
            {
                "coding": [
                    {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "194000"}
                ]
            },
            "capecitabine",
            "RxNorm",
        ),
        (
            {
                "coding": [
                    {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "200328"}
                ]
            },
            "capecitabine",
            "RxNorm",
        ),
        ({"text": "Xeloda 500 mg tablet"}, "capecitabine", "name"),
        ({"text": "5-FU continuous infusion"}, "fluorouracil", "name"),
        ({"text": "amlodipine 5 mg"}, None, None),
    ],
)
def test_draft_order_ingredient(rule_set, concept, ingredient, how):
    draft = only(extract(rule_set, orders=[order(concept)]), facts.DraftMedication)
    assert (draft.ingredient, draft.identified_by) == (ingredient, how)


def test_contained_medication_and_dose(rule_set):
    resource = order(
        None,
        contained=[
            {
                "resourceType": "Medication",
                "id": "med",
                "code": {
                    "coding": [
                        {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "4492"}
                    ]
                },
            }
        ],
        medicationReference={"reference": "#med"},
        dosageInstruction=[
            {
                "timing": {"repeat": {"frequency": 1, "period": 14, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": {"value": 2400, "unit": "mg/m2"}}],
            }
        ],
    )
    del resource["medicationCodeableConcept"]
    draft = only(extract(rule_set, orders=[resource]), facts.DraftMedication)
    assert (draft.ingredient, draft.dose_value, draft.dose_unit, draft.frequency) == (
        "fluorouracil",
        2400.0,
        "mg/m2",
        "every 14 days",
    )


@pytest.mark.parametrize(
    "sent",
    [
        [],  # the Medication was not sent at all
        [{"resourceType": "Medication", "id": "med-1"}],  # sent, with no code
        [{"resourceType": "Medication", "id": "med-1", "code": 5}],  # sent, not valid FHIR
    ],
)
def test_a_draft_order_whose_medication_cannot_be_read_is_said_not_skipped(rule_set, sent):
    """A drug was chosen by reference: skipping the order as if none were chosen would pass it
    unchecked in silence."""
    resource = order(None, medicationReference={"reference": "Medication/med-1"})
    del resource["medicationCodeableConcept"]
    found = extract(rule_set, sent, orders=[resource])
    assert not [f for f in found if isinstance(f, facts.DraftMedication)]
    (broken,) = [f for f in found if isinstance(f, facts.Unreadable) and f.role != "record"]
    assert (broken.role, broken.resource) == ("draft_medication", "MedicationRequest/o1")
    assert "Medication/med-1" in broken.reason


def test_hl7_examples_parse(rule_set):
    examples = [
        fixture_json(f"hl7-examples/Observation-{name}.json")
        for name in ("Pgx-geno-1001", "TxImp01", "GenotypeExamplePharmVar")
    ]
    for example in examples:
        example["subject"] = {"reference": f"Patient/{PATIENT}"}
    found = extract(rule_set, examples)
    assert not [f for f in found if isinstance(f, facts.Unreadable)]
    phenotypes = {f.gene: f.phenotype for f in found if isinstance(f, facts.Phenotype)}
    assert phenotypes["CYP2C19"] == "Poor metabolizer"
    assert {f.gene: f.reported for f in found if isinstance(f, facts.Genotype)}["CYP2D6"] == (
        "CYP2D6*7.001 / CYP2D6*1.001"
    )


def test_every_fact_attribute_is_text_or_number(rule_set):
    for attributes in facts.schema().values():
        assert set(attributes.values()) <= {str, float}


def gene_genotype(gene: str, hgnc: str, text: str, ident: str) -> dict:
    resource = genotype(text, gene_code=hgnc, ident=ident)
    resource["component"][0]["valueCodeableConcept"]["coding"][0]["display"] = gene
    return resource


def statement(ident: str, rxnorm: str, status: str = "active") -> dict:
    return {
        "resourceType": "MedicationStatement",
        "id": ident,
        "status": status,
        "subject": {"reference": f"Patient/{PATIENT}"},
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": rxnorm}]
        },
    }


def phenotype_of(found: list[facts.Fact], gene: str) -> facts.Phenotype:
    (fact,) = [f for f in found if isinstance(f, facts.Phenotype) and f.gene == gene]
    return fact


@pytest.mark.parametrize(
    ("inhibitor", "effective", "phenotype"),
    [
        (None, 1.25, "Normal metabolizer"),
        ("32937", 0.0, "Poor metabolizer"),  # paroxetine, strong: x 0
        ("72625", 0.625, "Intermediate metabolizer"),  # duloxetine, moderate: x 0.5
        ("36437", 1.25, "Normal metabolizer"),  # sertraline, weak: unchanged
        ("4492", 1.25, "Normal metabolizer"),  # fluorouracil inhibits nothing
    ],
)
def test_phenoconversion_from_active_medications(rule_set, inhibitor, effective, phenotype):
    resources = [gene_genotype("CYP2D6", "HGNC:2625", "*1/*41", "g-cyp")]
    if inhibitor:
        resources.append(statement("m1", inhibitor))
    cyp = phenotype_of(extract(rule_set, resources), "CYP2D6")
    assert cyp.activity_score == 1.25
    assert (cyp.effective_activity_score, cyp.effective_phenotype) == (effective, phenotype)


def test_a_stopped_inhibitor_does_not_phenoconvert(rule_set):
    resources = [
        gene_genotype("CYP2D6", "HGNC:2625", "*1/*1", "g-cyp"),
        statement("m1", "32937", status="stopped"),
    ]
    assert phenotype_of(extract(rule_set, resources), "CYP2D6").effective_activity_score == 2.0


def test_lab_phenotype_without_score_under_a_strong_inhibitor_is_poor(rule_set):
    tbd = "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs"
    lab = implication("LA25391-6")
    lab["component"].append(
        {
            "code": {"coding": [{"system": "http://loinc.org", "code": "48018-6"}]},
            "valueCodeableConcept": {
                "coding": [{"system": "http://www.genenames.org", "code": "HGNC:2625"}]
            },
        }
    )
    del lab["derivedFrom"]
    assert lab["code"]["coding"][0]["system"] == tbd
    strong = phenotype_of(extract(rule_set, [lab, statement("m1", "32937")]), "CYP2D6")
    assert (strong.effective_activity_score, strong.effective_phenotype) == (
        0.0,
        "Poor metabolizer",
    )
    moderate = phenotype_of(extract(rule_set, [lab, statement("m1", "72625")]), "CYP2D6")
    assert (moderate.effective_activity_score, moderate.effective_phenotype) == (None, None)
    assert moderate.inhibited_by == "duloxetine (moderate)"


def test_tpmt_gene_specific_phenotype_code(rule_set):
    observation = {
        "resourceType": "Observation",
        "id": "t1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "79713-4"}]},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "valueCodeableConcept": {"coding": [{"system": "http://loinc.org", "code": "LA9657-3"}]},
    }
    tpmt = phenotype_of(extract(rule_set, [observation]), "TPMT")
    assert (tpmt.phenotype, tpmt.basis) == ("Poor metabolizer", "lab")


def test_phenotype_text_with_the_gene_in_front(rule_set):
    lab = implication("unused")
    lab["component"][0]["valueCodeableConcept"] = {"text": "DPYD Intermediate Metabolizer"}
    found = extract(rule_set, [genotype("*2A/Reference"), lab])
    assert phenotype_of(found, "DPYD").concordance == "concordant"


@pytest.mark.parametrize(
    ("tpmt", "nudt15", "reduced", "worst"),
    [
        ("*1/*1", "*1/*1", 0.0, (None, None)),
        ("*1/*3A", "*1/*1", 1.0, ("Intermediate metabolizer", "TPMT")),
        ("*1/*3A", "*1/*3", 2.0, ("Intermediate metabolizer", "TPMT")),
        ("*1/*3A", "*3/*3", 2.0, ("Poor metabolizer", "NUDT15")),
        ("*5/*3A", "*1/*1", 1.0, ("Possible intermediate metabolizer", "TPMT")),
        ("*1/*5", "*1/*1", 0.0, (None, None)),
    ],
)
def test_combined_thiopurine_phenotype(rule_set, tpmt, nudt15, reduced, worst):
    found = extract(
        rule_set,
        [
            gene_genotype("TPMT", "HGNC:12014", tpmt, "g-tpmt"),
            gene_genotype("NUDT15", "HGNC:23063", nudt15, "g-nudt15"),
        ],
    )
    group = only(found, facts.PhenotypeGroup)
    assert (group.reduced, (group.worst_phenotype, group.worst_gene)) == (reduced, worst)


def condition(ident: str, text: str, code: str | None = None, **extra: Any) -> dict:
    concept: dict[str, Any] = {"text": text}
    if code:
        concept["coding"] = [{"system": "http://snomed.info/sct", "code": code}]
    return {
        "resourceType": "Condition",
        "id": ident,
        "code": concept,
        "subject": {"reference": f"Patient/{PATIENT}"},
        **extra,
    }


MP = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "103"}]}


@pytest.mark.parametrize(
    ("conditions", "reason", "indication"),
    [
        ([condition("c1", "B-cell acute lymphoblastic leukemia", "277571004")], None, "malignant"),
        ([condition("c1", "Crohn disease of ileum")], None, "non-malignant"),
        (
            [condition("c1", "Crohn disease"), condition("c2", "Hodgkin lymphoma")],
            None,
            "malignant",
        ),
        (
            [condition("c1", "Crohn disease"), condition("c2", "Hodgkin lymphoma")],
            "c1",
            "non-malignant",
        ),
        ([condition("c1", "Essential hypertension")], None, None),
        (
            [
                condition(
                    "c1",
                    "Acute leukemia",
                    clinicalStatus={"coding": [{"code": "resolved"}]},
                )
            ],
            None,
            None,
        ),
        (
            [
                condition(
                    "c1",
                    "Acute lymphoblastic leukemia",
                    clinicalStatus={"coding": [{"code": "remission"}]},
                )
            ],
            None,
            "malignant",
        ),
    ],
)
def test_indication_from_the_order_reason_or_the_conditions(
    rule_set, conditions, reason, indication
):
    extra = {"reasonReference": [{"reference": f"Condition/{reason}"}]} if reason else {}
    draft = only(extract(rule_set, conditions, [order(MP, **extra)]), facts.DraftMedication)
    assert draft.indication == indication


@pytest.mark.parametrize(
    ("gender", "birth", "conditions", "status"),
    [
        ("female", "1960-01-01", [], "postmenopausal"),  # 66: age 60 or over
        ("female", "1975-01-01", [], "unknown"),  # 51: under 60, nothing recorded
        ("female", "1975-01-01", [condition("c1", "Postmenopausal", "76498008")], "postmenopausal"),
        ("female", "1962-01-01", [condition("c1", "Premenopausal", "22636003")], "premenopausal"),
        ("male", "1950-01-01", [], "not applicable"),
    ],
)
def test_menopausal_status_from_data_else_age(rule_set, gender, birth, conditions, status):
    record = PatientRecord(
        PATIENT,
        {"resourceType": "Patient", "id": PATIENT, "gender": gender, "birthDate": birth},
        conditions,
        [],
    )
    found = facts.extract(record, rule_set.knowledge, TODAY)
    assert only(found, facts.PatientFact).menopause == status


@pytest.mark.parametrize("birth", ["1996", "1996-04"])
def test_a_birth_date_without_its_day_gives_no_age_rather_than_an_error(rule_set, birth):
    record = PatientRecord(
        PATIENT, {"resourceType": "Patient", "id": PATIENT, "birthDate": birth}, [], []
    )
    patient = only(facts.extract(record, rule_set.knowledge, TODAY), facts.PatientFact)
    assert patient.age is None


def service_request(ident: str, text: str, status: str = "active") -> dict:
    return {
        "resourceType": "ServiceRequest",
        "id": ident,
        "status": status,
        "intent": "order",
        "code": {"text": text},
        "subject": {"reference": f"Patient/{PATIENT}"},
    }


def test_a_genotyping_order_marks_the_test_as_ordered(rule_set):
    found = extract(
        rule_set,
        [
            service_request("s1", "Pharmacogenomic panel: DPYD, UGT1A1"),
            service_request("s2", "TPMT", "revoked"),
        ],
        [service_request("s3", "NUDT15 genotyping", "draft")],
    )
    ordered = {f.gene: f.test_ordered for f in found if isinstance(f, facts.MissingResult)}
    assert ordered == {
        "DPYD": "ServiceRequest/s1 (active)",
        "UGT1A1": "ServiceRequest/s1 (active)",
        "CYP2D6": None,
        "TPMT": None,
        "NUDT15": "ServiceRequest/s3 (draft)",
        **dict.fromkeys(["G6PD", "HLA-B", "CYP2C19", "CYP3A5"]),
    }


def test_liposomal_irinotecan_is_told_apart_from_its_ingredient_code(rule_set):
    concept = {
        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "51499"}],
        "text": "Onivyde (irinotecan liposome) 43 mg/10 mL",
    }
    draft = only(extract(rule_set, orders=[order(concept)]), facts.DraftMedication)
    assert draft.ingredient == "irinotecan liposome"
    plain = only(
        extract(rule_set, orders=[order({"text": "irinotecan 100 mg"})]), facts.DraftMedication
    )
    assert plain.ingredient == "irinotecan"


def test_a_draft_inhibitor_is_an_inhibitor_fact(rule_set):
    paroxetine = {
        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "32937"}]
    }
    inhibitor = only(extract(rule_set, orders=[order(paroxetine)]), facts.Inhibitor)
    assert (inhibitor.enzyme, inhibitor.strength, inhibitor.origin) == ("CYP2D6", "strong", "draft")
