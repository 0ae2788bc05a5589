"""MSI, MMR, TMB and HRD as mCODE 4.0.0, Genomics Reporting 3.0.0 and labs write them.

Each shape must read to the biomarker status the pembrolizumab and olaparib labels need:
MSI-H (LOINC 81695-9, coded, written, or as the interpretation of a percent), dMMR (one MMR
status, or four immunohistochemistry results one per protein), TMB-H (94076-7, 10 mut/Mb or
more, any unit spelling) and HRD (107286-7, genomic instability score 42 or more, or a status).
Published examples are in ``fixtures/fhir/genomics-reporting/`` and ``biomarker-examples/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cds_service import facts
from cds_service.ruleset.compiled import RuleSet
from cds_service.ruleset.loader import load_rule_set
from tests.conftest import copy_rules, fixture_json, replace_in
from tests.test_biomarkers import cancer, markers, read

LOINC = "http://loinc.org"
PATIENT = "somaticPatient"  # the Genomics Reporting examples' subject


def observation(loinc: str, value: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"obs-{loinc}-{len(str(value))}",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": loinc}]},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "effectiveDateTime": "2026-10-01",
        **value,
        **more,
    }


def status(rule_set: RuleSet, site: str, *results: dict[str, Any]) -> dict[str, str]:
    found = read(rule_set, PATIENT, [cancer(PATIENT, site), *results])
    return {name: marker.status for name, marker in markers(found).items()}


def example(path: str) -> dict[str, Any]:
    found = fixture_json(path)
    found["subject"] = {"reference": f"Patient/{PATIENT}"}  # one patient for every shape
    return found


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (example("genomics-reporting/Observation-MSIExample.json"), "present"),
        (
            example("genomics-reporting/Observation-MicrosatelliteInstabilityExample01.json"),
            "negative",
        ),
        (example("biomarker-examples/Observation-gx-genomic-msi.json"), "present"),
        (
            observation(
                "81695-9",
                {"valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA26202-4"}]}},
            ),
            "negative",
        ),
        (observation("81695-9", {"valueCodeableConcept": {"text": "MSS"}}), "negative"),
        (observation("81695-9", {"valueString": "MSI-High"}), "present"),
        (  # MII Molekulares Tumorboard: percent of unstable sites, read by its interpretation
            observation(
                "81695-9",
                {"valueQuantity": {"value": 2.61, "unit": "%"}},
                interpretation=[{"text": "Stable"}],
            ),
            "negative",
        ),
        (
            observation(
                "81695-9",
                {"valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA14123-6"}]}},
            ),
            "not interpreted",
        ),
    ],
)
def test_msi_shapes(rule_set: RuleSet, result: dict[str, Any], expected: str):
    assert status(rule_set, "Adenocarcinoma of colon", result)["MSI-H"] == expected


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (example("genomics-reporting/Observation-TMBExample.json"), "present"),  # 29.8, no unit
        (example("genomics-reporting/Observation-TumorMutationBurdenExample01.json"), "present"),
        (
            example("biomarker-examples/Observation-gx-genomic-tmb.json"),
            "present",
        ),  # 57.1 1/1000000{Base}
        (
            observation("94076-7", {"valueQuantity": {"value": 10, "unit": "{mutations}/[Mb]"}}),
            "present",
        ),
        (
            observation("94076-7", {"valueQuantity": {"value": 9.9, "unit": "{mutations}/[Mb]"}}),
            "negative",
        ),
    ],
)
def test_tmb_shapes(rule_set: RuleSet, result: dict[str, Any], expected: str):
    assert status(rule_set, "Adenocarcinoma of colon", result)["TMB-H"] == expected


def ihc(gene: str, answer: str, code: str | None = None) -> dict[str, Any]:
    """One MMR protein by immune stain, shaped like the IG example HER2byImmuneStainExample."""
    value = {"coding": [{"system": LOINC, "code": code}]} if code else {"text": answer}
    return {
        "resourceType": "Observation",
        "id": f"ihc-{gene}-{answer.replace(' ', '-')}",
        "status": "final",
        "code": {"text": f"{gene} protein by immune stain"},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "effectiveDateTime": "2026-10-01",
        "valueCodeableConcept": value,
        "component": [
            {
                "code": {"coding": [{"system": LOINC, "code": "48018-6"}]},
                "valueCodeableConcept": {
                    "coding": [
                        {"system": "http://www.genenames.org", "code": gene, "display": gene}
                    ]
                },
            }
        ],
    }


INTACT = [ihc(g, "intact") for g in ("MLH1", "MSH2", "MSH6", "PMS2")]


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        (INTACT, "negative"),
        ([ihc("MLH1", "loss"), ihc("PMS2", "loss"), *INTACT[1:3]], "present"),
        ([ihc("MSH6", "Absent", "LA9634-2")], "present"),  # one lost is enough
        (INTACT[:3], None),  # three intact, PMS2 not reported: neither
        ([observation("x", {"valueString": "dMMR"}, code={"text": "MMR status"})], "present"),
        (
            [
                observation(
                    "x", {"valueString": "MMR intact"}, code={"text": "Mismatch repair protein IHC"}
                )
            ],
            "negative",
        ),
    ],
)
def test_mmr_shapes(rule_set: RuleSet, results: list[dict[str, Any]], expected: str | None):
    assert status(rule_set, "Adenocarcinoma of colon", *results).get("dMMR") == expected


def mmr_reported(rule_set: RuleSet) -> str | None:
    stains = [ihc("MLH1", "loss"), *INTACT[1:3], ihc("PMS2", "loss")]
    found = read(rule_set, PATIENT, [cancer(PATIENT, "Adenocarcinoma of colon"), *stains])
    (mmr,) = [f for f in found if isinstance(f, facts.Finding) and f.finding == "MMR"]
    return mmr.reported


def test_the_finding_names_each_protein_in_the_rule_files_words(rule_set: RuleSet, tmp_path: Path):
    said = "deficient by immunohistochemistry: MLH1 lost, MSH2 intact, MSH6 intact, PMS2 lost"
    assert mmr_reported(rule_set) == said
    rules = copy_rules(tmp_path)
    replace_in(rules / "knowledge/oncology.yaml", "said: intact", "said: retained")
    replace_in(rules / "knowledge/oncology.yaml", "method: immunohistochemistry", "method: IHC")
    edited = load_rule_set(rules)
    try:
        assert mmr_reported(edited) == said.replace("intact", "retained").replace(
            "immunohistochemistry", "IHC"
        )
    finally:
        edited.close()


def test_an_mlh1_variant_is_not_an_intact_protein(rule_set: RuleSet):
    """A germline MLH1 variant 'Present' (69548-6) says nothing of the protein stain."""
    variant = observation(
        "69548-6", {"valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA9633-4"}]}}
    )
    variant["component"] = ihc("MLH1", "x")["component"]
    assert status(rule_set, "Adenocarcinoma of colon", variant, *INTACT[1:]).get("dMMR") is None


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            observation("107286-7", {"valueInteger": 43}, interpretation=[{"text": "High"}]),
            "present",
        ),  # MII example
        (observation("107286-7", {"valueInteger": 42}), "present"),
        (observation("107286-7", {"valueInteger": 41}), "negative"),
        (observation("107286-7", {"valueString": "HRD positive"}), "present"),
        (
            observation(
                "107286-7",
                {"valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA6577-6"}]}},
            ),
            "negative",
        ),
    ],
)
def test_hrd_shapes(rule_set: RuleSet, result: dict[str, Any], expected: str):
    assert status(rule_set, "High-grade serous ovarian cancer", result)["HRD"] == expected


def test_a_stain_that_is_not_valid_fhir_leaves_mmr_unread_not_missing(rule_set: RuleSet):
    """It may be the lost protein: the finding is said unreadable, never 'not on file'."""
    broken = {**ihc("MLH1", "loss"), "effectiveDateTime": "yesterday"}
    found = read(
        rule_set, PATIENT, [cancer(PATIENT, "Adenocarcinoma of colon"), broken, *INTACT[1:]]
    )
    (unread,) = [f for f in found if isinstance(f, facts.Unreadable) and f.finding]
    assert unread.resource == f"Observation/{broken['id']}"
    said = status(rule_set, "Adenocarcinoma of colon", broken, *INTACT[1:])
    assert said.get("dMMR") == "not interpreted"  # not "negative" from the three intact
