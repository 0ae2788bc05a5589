"""A lab's other LOINC code for the same quantity gives the same check.

Serum creatinine comes as mass (2160-0, mg/dL) or moles (14682-9, umol/L) per volume, total PSA
as 2857-1 or 19197-3 (rules/knowledge/oncology.yaml); a carboplatin dose check must not depend
on which one the lab chose.
"""

from __future__ import annotations

from typing import Any

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
