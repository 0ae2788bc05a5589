"""A lab's other LOINC code for the same quantity gives the same check.

Serum creatinine comes as mass (2160-0, mg/dL) or moles (14682-9, umol/L) per volume; a
carboplatin dose check must not depend on which one the lab chose. Total PSA comes under five
LOINC codes (2857-1; by immunoassay 83112-3; ultrasensitive 35741-8; the [Moles/volume] 19197-3
and [Units/volume] 19195-7 codes some labs use) and in ng/mL or ug/L, spelt as labs spell them
(rules/knowledge/oncology.yaml): each reads as the same number. A molar PSA has no agreed
conversion factor, so it is never converted: it is said to be unreadable, never taken as a
value, and free PSA is never read as total PSA.
"""

from __future__ import annotations

from typing import Any

import pytest

from cds_service import facts
from tests.conftest import Client, request_fixture
from tests.test_facts import extract
from tests.test_findings import LOINC, coded, finding, observation

CREATININE = "obs-creatinine-carboplatin-auc5-11pct-above"


def _with_creatinine(code: str, value: float, unit: str) -> dict[str, Any]:
    body = request_fixture("carboplatin-auc5-11pct-above.order-sign")
    for entry in body["prefetch"]["oncology"]["entry"]:
        if entry["resource"]["id"] == CREATININE:
            entry["resource"]["code"] = {"coding": [{"system": "http://loinc.org", "code": code}]}
            entry["resource"]["valueQuantity"] = {
                "value": value,
                "unit": unit,
                "system": "http://unitsofmeasure.org",
                "code": unit,
            }
    return body


def test_molar_creatinine_gives_the_same_calvert_dose(client: Client):
    summaries = [
        client.post("/cds-services/oncology-order-sign", json=body).json()["cards"][0]["summary"]
        for body in (
            _with_creatinine("2160-0", 1.1, "mg/dL"),
            _with_creatinine("14682-9", 97.24, "umol/L"),  # 1.1 mg/dL x 88.4
        )
    ]
    assert summaries[0] == summaries[1]
    assert "Calvert dose of 469.7 mg" in summaries[1]


def _psa(code: str, value: float, unit: str, ucum: str | None = None) -> dict[str, Any]:
    quantity = {"value": value, "unit": unit} | ({"code": ucum} if ucum else {})
    return observation(coded(LOINC, code), effectiveDateTime="2026-06-01", valueQuantity=quantity)


@pytest.mark.parametrize("code", ["2857-1", "83112-3", "35741-8", "19197-3", "19195-7"])
@pytest.mark.parametrize(
    ("unit", "ucum"),
    [
        ("ng/mL", "ng/mL"),
        ("ug/L", "ug/L"),
        ("µg/L", None),  # micro sign, written in Quantity.unit only
        ("μg/L", None),  # Greek mu
        ("ng/ml", None),
        ("mcg/L", None),
    ],
)
def test_total_psa_reads_the_same_under_every_code_and_mass_unit(rule_set, code, unit, ucum):
    read = finding(extract(rule_set, [_psa(code, 0.25, unit, ucum)]), "PSA")
    assert (read.number, read.unit, read.value) == (0.25, "ng/mL", None)


@pytest.mark.parametrize("code", ["2857-1", "19197-3"])
@pytest.mark.parametrize("unit", ["nmol/L", "pmol/L", "U/L"])
def test_psa_in_a_molar_or_arbitrary_unit_could_not_be_read(rule_set, code, unit):
    read = finding(extract(rule_set, [_psa(code, 7.5, unit, unit)]), "PSA")
    assert (read.value, read.number, read.reported) == ("not interpreted", None, f"7.5 {unit}")


def test_free_psa_is_not_total_psa(rule_set):
    found = extract(rule_set, [_psa("10886-0", 0.9, "ng/mL", "ng/mL")])  # PSA.free
    assert not [f for f in found if isinstance(f, facts.Finding) and f.finding == "PSA"]


def test_the_latest_psa_wins_whichever_code_it_has(rule_set):
    older = _psa("2857-1", 4.0, "ng/mL", "ng/mL")
    newer = _psa("83112-3", 0.3, "ug/L", "ug/L") | {"id": "o2", "effectiveDateTime": "2026-07-01"}
    read = finding(extract(rule_set, [older, newer]), "PSA")
    assert (read.number, read.sources) == (0.3, ("Observation/o2",))


def test_a_molar_psa_gets_the_could_not_be_read_card(client: Client):
    body = request_fixture("decipher-psa-0p2.patient-view")
    for entry in body["prefetch"]["oncology"]["entry"]:
        resource = entry["resource"]
        if resource["code"].get("coding", [{}])[0].get("code") == "2857-1":
            resource["code"] = {"coding": [{"system": "http://loinc.org", "code": "19197-3"}]}
            resource["valueQuantity"] = {"value": 6.1, "unit": "pmol/L", "code": "pmol/L"}
    cards = client.post("/cds-services/oncology-patient-view", json=body).json()["cards"]
    said = [
        c["summary"]
        for c in cards
        if c["source"]["topic"]["code"] == "finding-value-not-interpreted"
    ]
    assert said == ["PSA result on file could not be read: 6.1 pmol/L"]


LVEF_OBSERVATION = "obs-lvef-trastuzumab-lvef-fall-16-2026-09-21"


@pytest.mark.parametrize(
    ("coding", "method"),
    [
        ({"code": "10230-1"}, "any method (a MUGA result as labs code it)"),
        ({"code": "18043-0"}, "ultrasound"),
        ({"code": "77891-0"}, "echocardiogram, Teichholz 2D"),
        ({"code": "18049-7"}, "echocardiogram, Teichholz M-mode"),
        ({"code": "79990-8"}, "echocardiogram, 3D"),
        ({"code": "79991-6"}, "echocardiogram, biplane method of disks"),
        ({"code": "79992-4"}, "echocardiogram, single plane 2-chamber"),
        ({"code": "79993-2"}, "echocardiogram, single plane 4-chamber"),
        ({"code": "8811-2"}, "MR"),
        ({"code": "8810-4"}, "CT"),
        ({"code": "8808-8"}, "angiography"),
        ({"code": "99999-9", "display": "LVEF (MUGA)"}, "a MUGA result under a local code"),
    ],
)
def test_each_lvef_code_is_read_as_the_latest_lvef(
    client: Client, coding: dict[str, str], method: str
):
    """The latest LVEF (50 %) coded by ``method`` gives the same 16-point-fall card."""
    body = request_fixture("trastuzumab-lvef-fall-16.order-sign")
    (latest,) = [
        entry["resource"]
        for entry in body["prefetch"]["oncology"]["entry"]
        if entry["resource"]["id"] == LVEF_OBSERVATION
    ]
    latest["code"] = {"coding": [{"system": "http://loinc.org", **coding}]}
    (card,) = client.post("/cds-services/oncology-order-sign", json=body).json()["cards"]
    assert card["summary"].startswith("LVEF 50% from 66% (-16 points)"), method
    assert f"Observation/{LVEF_OBSERVATION}" in card["detail"]


def test_a_right_ventricular_ejection_fraction_is_not_an_lvef(client: Client):
    """RVEF by MR (8818-7, DICOM CID 3833) is not the left ventricle's: no LVEF fall."""
    body = request_fixture("trastuzumab-lvef-fall-16.order-sign")
    for entry in body["prefetch"]["oncology"]["entry"]:
        if entry["resource"]["id"] == LVEF_OBSERVATION:
            entry["resource"]["code"] = {
                "coding": [{"system": "http://loinc.org", "code": "8818-7"}],
                "text": "Right ventricular ejection fraction by MR",
            }
    assert client.post("/cds-services/oncology-order-sign", json=body).json()["cards"] == []
