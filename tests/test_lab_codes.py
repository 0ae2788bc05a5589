"""A lab's other LOINC code for the same quantity gives the same check.

Serum creatinine comes as mass (2160-0, mg/dL) or moles (14682-9, umol/L) per volume, total PSA
as 2857-1 or 19197-3 (rules/knowledge/oncology.yaml); a carboplatin dose check must not depend
on which one the lab chose.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Client, request_fixture

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
