"""Oncology findings and procedures as mCODE and labs send them: the values assay rules rest on.

Shapes follow the mCODE 4.0.0 examples (tumor-size-pathology, histologic-grade-intermediate,
tnm-pathologic-primary-tumor-category-jenny-m, cancer-related-surgical-procedure-jenny-m);
the values are new.
"""

from __future__ import annotations

from typing import Any

import pytest

from cds_service import facts
from tests.test_facts import PATIENT, extract, only

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"


def observation(code: dict[str, Any], ident: str = "o1", **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": code,
        "subject": {"reference": f"Patient/{PATIENT}"},
        **value,
    }


def coded(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    return {
        "coding": [{"system": system, "code": code} | ({"display": display} if display else {})]
    }


def cm(value: float, unit: str = "cm") -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}


def prostatectomy(status: str = "completed", when: str = "2026-03-02", **extra: Any) -> dict:
    return {
        "resourceType": "Procedure",
        "id": "rp",
        "status": status,
        "code": coded(SNOMED, "26294005", "Radical prostatectomy"),
        "subject": {"reference": f"Patient/{PATIENT}"},
        "performedDateTime": when,
        **extra,
    }


def psa(value: float, when: str, ident: str = "psa") -> dict[str, Any]:
    return observation(
        coded(LOINC, "2857-1"),
        ident,
        effectiveDateTime=when,
        valueQuantity={"value": value, "unit": "ng/mL", "code": "ng/mL"},
    )


def finding(found: list[facts.Fact], name: str) -> facts.Finding:
    (result,) = [f for f in found if isinstance(f, facts.Finding) and f.finding == name]
    return result


@pytest.mark.parametrize(("largest", "unit", "number"), [(1.2, "cm", 1.2), (25, "mm", 2.5)])
def test_tumor_size_is_the_largest_dimension(rule_set, largest, unit, number):
    size = observation(
        coded(LOINC, "21889-1"),
        component=[
            {"code": coded(LOINC, "33729-5"), "valueQuantity": cm(0.5)},
            {"code": coded(LOINC, "33728-7"), "valueQuantity": cm(largest, unit)},
        ],
    )
    read = finding(extract(rule_set, [size]), "tumor_size")
    assert (read.number, read.unit) == (number, "cm")


def test_tumor_size_in_inches_is_not_interpreted(rule_set):
    size = observation(
        coded(LOINC, "21889-1"),
        component=[{"code": coded(LOINC, "33728-7"), "valueQuantity": cm(1, "[in_i]")}],
    )
    read = finding(extract(rule_set, [size]), "tumor_size")
    assert (read.value, read.number) == ("not interpreted", None)


@pytest.mark.parametrize(
    ("value", "grade"),
    [
        ({"valueCodeableConcept": coded(LOINC, "LA27824-4", "Nottingham grade 2")}, "2"),
        ({"valueCodeableConcept": coded(SNOMED, "369792005")}, "3"),
        ({"valueCodeableConcept": {"text": "Grade 1"}}, "1"),
        ({"valueString": " nottingham  GRADE 3 "}, "3"),
        ({"valueInteger": 2}, "2"),
    ],
)
def test_grade_from_a_code_or_the_written_answer(rule_set, value, grade):
    read = finding(extract(rule_set, [observation(coded(LOINC, "44648-4"), **value)]), "grade")
    assert (read.value, read.number) == (grade, float(grade))


def test_a_grade_named_low_or_intermediate_is_not_guessed(rule_set):
    """mCODE's WHO grade says "intermediate"; one source maps "low" to G1 or G2."""
    grade = observation(
        coded("http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl", "C18000"),
        valueCodeableConcept=coded(SNOMED, "1286893008", "Intermediate histologic grade"),
    )
    read = finding(extract(rule_set, [grade]), "grade")
    assert (read.value, read.number) == ("not interpreted", None)


def test_a_t_subcategory_reads_as_its_category(rule_set):
    pt3a = observation(coded(SNOMED, "384625004"), valueCodeableConcept=coded(SNOMED, "1229860005"))
    assert finding(extract(rule_set, [pt3a]), "primary_tumor").value == "T3"


@pytest.mark.parametrize(
    ("value", "band"),
    [
        ({"valueQuantity": {"value": 0.44}}, "low"),
        ({"valueQuantity": {"value": 0.45}}, "intermediate"),
        ({"valueQuantity": {"value": 0.6}}, "intermediate"),
        ({"valueQuantity": {"value": 0.61}}, "high"),
        ({"valueCodeableConcept": {"text": "High Risk"}}, "high"),
        ({"valueString": "very high"}, None),
    ],
)
def test_decipher_band_from_the_score_or_the_written_group(rule_set, value, band):
    result = observation({"text": "Decipher Prostate genomic classifier"}, **value)
    assert finding(extract(rule_set, [result]), "decipher").band == band


@pytest.mark.parametrize(
    ("score", "band"), [(29, "low"), (30, "intermediate"), (40, "intermediate"), (41, "high")]
)
def test_colon_recurrence_score_groups(rule_set, score, band):
    result = observation({"text": "Oncotype DX Colon Recurrence Score"}, valueInteger=score)
    assert finding(extract(rule_set, [result]), "oncotype_dx_colon").band == band


def test_a_psa_after_the_prostatectomy_says_so(rule_set):
    found = extract(
        rule_set, [prostatectomy(), psa(8.1, "2026-01-10", "pre"), psa(0.3, "2026-05-04")]
    )
    done = only(found, facts.PerformedProcedure)
    assert (done.procedure, done.date, done.resource) == (
        "radical_prostatectomy",
        "2026-03-02",
        "Procedure/rp",
    )
    read = finding(found, "PSA")
    assert (read.number, read.after_procedure) == (0.3, "radical_prostatectomy")


@pytest.mark.parametrize(
    ("procedure", "psa_date"),
    [
        (prostatectomy(), "2026-03-02"),  # the same day: drawn before the operation
        (prostatectomy(), "2026-02-01"),  # the latest PSA predates it
        (prostatectomy(status="preparation"), "2026-05-04"),  # planned, not done
        (prostatectomy(status="entered-in-error"), "2026-05-04"),
    ],
)
def test_a_psa_not_after_a_prostatectomy_done_says_nothing(rule_set, procedure, psa_date):
    found = extract(rule_set, [procedure, psa(8.1, psa_date)])
    assert finding(found, "PSA").after_procedure is None


def test_a_procedure_period_and_words_only(rule_set):
    robotic = prostatectomy(
        code={"text": "Robot-assisted laparoscopic radical prostatectomy"},
        performedPeriod={"start": "2026-03-02T08:00:00Z", "end": "2026-03-02T12:30:00Z"},
    )
    del robotic["performedDateTime"]
    done = only(extract(rule_set, [robotic]), facts.PerformedProcedure)
    assert done.procedure == "radical_prostatectomy"
    assert (done.date or "")[:16] == "2026-03-02 12:30"  # the end of the period


def test_a_simple_prostatectomy_is_not_a_radical_one(rule_set):
    simple = prostatectomy(code={"text": "Simple prostatectomy"})
    assert not [f for f in extract(rule_set, [simple]) if isinstance(f, facts.PerformedProcedure)]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"subject": {"reference": "Patient/someone-else"}}, "subject is Patient/someone-else"),
        ({"performedDateTime": "March 2026"}, "performedDateTime"),
    ],
)
def test_a_prostatectomy_that_cannot_be_used_is_unreadable(rule_set, change, reason):
    found = extract(rule_set, [prostatectomy(**change)])
    broken = only(found, facts.Unreadable)
    assert (broken.resource, broken.procedure) == ("Procedure/rp", "radical_prostatectomy")
    assert reason in broken.reason
    assert not [f for f in found if isinstance(f, facts.PerformedProcedure)]


def test_a_value_with_a_comparator_is_not_read_as_the_number(rule_set):
    """ "<0.1 ng/mL" after a prostatectomy is undetectable, not a PSA of 0.1 to test a threshold."""
    below = psa(0.1, "2026-06-01")
    below["valueQuantity"]["comparator"] = "<"
    found = finding(extract(rule_set, [below]), "PSA")
    assert (found.value, found.number, found.reported) == ("not interpreted", None, "<0.1 ng/mL")


def test_a_result_dated_by_a_period_or_when_issued_keeps_its_date_and_its_rank(rule_set):
    older = psa(0.05, "2026-01-10", ident="older")
    by_period = psa(0.3, "", ident="period")
    del by_period["effectiveDateTime"]
    by_period["effectivePeriod"] = {"start": "2026-07-01", "end": "2026-07-02"}
    issued = psa(0.2, "", ident="issued")
    del issued["effectiveDateTime"]
    issued["issued"] = "2026-04-01T10:00:00Z"
    found = finding(extract(rule_set, [older, issued, by_period]), "PSA")
    assert (found.number, found.date, found.sources) == (0.3, "2026-07-01", ("Observation/period",))
    found = finding(extract(rule_set, [older, issued]), "PSA")
    assert (found.number, found.date) == (0.2, "2026-04-01T10:00:00Z")
