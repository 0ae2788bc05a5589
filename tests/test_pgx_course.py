"""After the first dose and when a dose cannot be compared, the PGx cards say so (issue 13).

A DPYD poor metabolizer treated anyway is not offered "cancel" again at every cycle (CPIC 2017
Table 2: at activity score 0.5, a strongly reduced dose with early drug monitoring), and a
mercaptopurine order in plain mg is set against CPIC's 75 mg/m2/day or 1.5 mg/kg/day only
with a BSA or weight on file, else the card says it could not compare.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.conftest import Client, request_fixture

SIGN = "/cds-services/oncology-order-sign"


def _card(client: Client, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(SIGN, json=body)
    assert response.status_code == 200
    (card,) = response.json()["cards"]
    return card


def _detail(card: dict[str, Any]) -> str:
    """The detail with its line breaks read as spaces, as a clinician reads it."""
    return " ".join(card["detail"].split())


def _timed(name: str, timing: dict[str, Any] | None) -> dict[str, Any]:
    """The fixture request with the draft order's timing replaced (None: no timing at all)."""
    body = copy.deepcopy(request_fixture(name))
    (dosage,) = body["context"]["draftOrders"]["entry"][0]["resource"]["dosageInstruction"]
    dosage.pop("timing")
    if timing is not None:
        dosage["timing"] = timing
    return body


def _with_bsa(name: str, square_metres: float) -> dict[str, Any]:
    """The fixture request with a body surface area result (LOINC 8277-6, mCODE) on file."""
    body = copy.deepcopy(request_fixture(name))
    patient = body["context"]["patientId"]
    observation = {
        "resourceType": "Observation",
        "id": "obs-bsa-course",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8277-6"}]},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": "2026-11-01",
        "valueQuantity": {
            "value": square_metres,
            "unit": "m2",
            "system": "http://unitsofmeasure.org",
            "code": "m2",
        },
    }
    bundle = body["prefetch"]["oncology"]
    bundle["entry"] = [*(bundle.get("entry") or []), {"resource": observation}]
    bundle["total"] = len(bundle["entry"])
    return body


def test_dpyd_as05_first_order_still_offers_cancelling(client: Client):
    card = _card(client, request_fixture("dpyd-2a-2846-capecitabine.order-sign"))
    assert card["indicator"] == "critical"
    assert [a["type"] for s in card["suggestions"] for a in s["actions"]] == ["delete"]


def test_dpyd_as05_later_cycle_says_tdm_and_offers_no_cancel_or_cut(client: Client):
    card = _card(client, request_fixture("dpyd-2a-2846-capecitabine-cycle2.order-sign"))
    assert card["indicator"] == "warning"
    assert not card.get("suggestions")
    assert "given or ordered before (1 on file)" in _detail(card)
    assert "strongly reduced dose with early therapeutic drug monitoring (TDM)" in _detail(card)
    assert "MedicationAdministration/admin-dpyd-2a-2846-capecitabine-cycle2-" in _detail(card)


def test_dpyd_as0_later_cycle_stays_critical_without_a_cancel_suggestion(client: Client):
    card = _card(client, request_fixture("dpyd-2a-13-capecitabine-cycle2.order-sign"))
    assert card["indicator"] == "critical"
    assert not card.get("suggestions")
    assert "no dose has been shown safe" in card["summary"]


def test_mercaptopurine_in_mg_without_bsa_or_weight_is_not_taken_for_a_full_dose(client: Client):
    card = _card(client, request_fixture("tpmt-im-mercaptopurine-mg.order-sign"))
    assert "could not be compared" in _detail(card)
    assert "if the normal starting dose is 75 mg/m2/day or 1.5 mg/kg/day or more" in _detail(card)
    assert "If it is a full dose, the reduced range is 15-40 mg once daily" in _detail(card)
    assert not card.get("suggestions")


def test_mercaptopurine_in_mg_is_set_against_the_weight_on_file(client: Client):
    card = _card(client, request_fixture("tpmt-im-mercaptopurine-40mg-40kg.order-sign"))
    assert card["source"]["topic"]["code"] == "mercaptopurine-intermediate-below-full-dose"
    assert "66.7 % of 1.5 mg/kg/day (the order 40 mg / 40 kg = 1 mg/kg;" in _detail(card)
    assert "Observation/obs-weight-tpmt-im-mercaptopurine-40mg-40kg" in _detail(card)


def test_mercaptopurine_in_mg_below_75_per_m2_of_the_bsa_is_not_cut(client: Client):
    """50 mg / 1 m2 = 50 mg/m2: below CPIC's 75, so no cut (the BSA is tried before weight)."""
    card = _card(client, _with_bsa("tpmt-im-mercaptopurine-mg.order-sign", 1.0))
    assert card["source"]["topic"]["code"] == "mercaptopurine-intermediate-below-full-dose"
    assert (
        "the order 50 mg / 1 m2 = 50 mg/m2; BSA 1 m2 (Observation/obs-bsa-course"
        in (card["detail"])
    )


def test_mercaptopurine_in_mg_above_75_per_m2_of_the_bsa_is_cut(client: Client):
    """50 mg / 0.6 m2 = 83.3 mg/m2, above CPIC's 75: the 30-80 % start of the order."""
    card = _card(client, _with_bsa("tpmt-im-mercaptopurine-mg.order-sign", 0.6))
    assert card["source"]["topic"]["code"] == "mercaptopurine-intermediate"
    assert "15-40 mg once daily (30-80%)" in card["summary"]


def test_mercaptopurine_threshold_is_per_day_so_twice_daily_doses_add_up(client: Client):
    """50 mg/m2 twice daily is 100 mg/m2/day, above CPIC's 75: cut, though one dose is below."""
    twice = {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}}
    card = _card(client, _timed("tpmt-im-mercaptopurine-50.order-sign", twice))
    assert card["source"]["topic"]["code"] == "mercaptopurine-intermediate"
    assert "15-40 mg/m2 twice daily (30-80%)" in card["summary"]


def test_mercaptopurine_once_daily_below_75_per_m2_stays_uncut(client: Client):
    card = _card(client, request_fixture("tpmt-im-mercaptopurine-50.order-sign"))
    assert card["source"]["topic"]["code"] == "mercaptopurine-intermediate-below-full-dose"
    assert "66.7 % of 75 mg/m2/day" in _detail(card)


def test_mercaptopurine_below_75_per_m2_without_timing_is_not_compared(client: Client):
    """One dose of 50 mg/m2 with no timing may be one of two a day: not read as reduced."""
    card = _card(client, _timed("tpmt-im-mercaptopurine-50.order-sign", None))
    assert card["source"]["topic"]["code"] == "mercaptopurine-intermediate-dose-not-compared"
    assert "could not be compared" in _detail(card)
