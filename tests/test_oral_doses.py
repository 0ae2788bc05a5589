"""A computed oral dose is one the tablets can make, and is said in a prescriber's words.

Issue 13: halving "3 {pill}" of capecitabine gave "1.5 {pill}", though capecitabine tablets
(150 and 500 mg, Xeloda label) are not to be cut. The strengths and the rounding rule are in
``rules/knowledge/drugs.yaml``; these tests change the dose of the capecitabine fixture order
and read the card and its one-click update.
"""

from __future__ import annotations

import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest

from tests.conftest import Client, request_fixture

SERVICE = "/cds-services/oncology-order-sign"


def _card(client: Client, value: float, unit: str) -> dict:
    body = request_fixture("dpyd-c1905-het-capecitabine-pills.order-sign")
    order = body["context"]["draftOrders"]["entry"][0]["resource"]
    quantity = order["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
    quantity.update(value=value, unit=unit, code=unit)
    (card,) = client.post(SERVICE, json=body).json()["cards"]
    return card


def _updated_dose(card: dict) -> float | None:
    actions = [a for s in card.get("suggestions") or () for a in s["actions"]]
    if not actions:
        return None
    order = MedicationRequest.model_validate(actions[0]["resource"])
    return float(order.dosageInstruction[0].doseAndRate[0].doseQuantity.value)


@pytest.mark.parametrize(
    ("value", "unit", "said", "updated"),
    [
        # 2050 mg halved is 1025 mg: the nearest the tablets make is 1000 mg (2 x 500 mg)
        (2050, "mg", "1000 mg once daily (2 x 500 mg; 50% is 1025 mg)", 1000),
        # 3300 mg halved is 1650 mg = 3 x 500 + 1 x 150: exact, no rounding note
        (3300, "mg", "1650 mg once daily (3 x 500 mg + 1 x 150 mg; 50%)", 1650),
        # 4 tablets of 500 mg halved: 2 tablets, an update the order can carry
        (4, "{pill}", "1000 mg once daily (2 x 500 mg; 50%)", 2),
        # 3 tablets of 500 mg halved: 750 mg needs 150 mg tablets, so no one-click update
        (3, "{pill}", "750 mg once daily (5 x 150 mg; 50%)", None),
    ],
)
def test_a_halved_capecitabine_dose_is_rounded_to_whole_tablets(
    client: Client, value: float, unit: str, said: str, updated: float | None
):
    card = _card(client, value, unit)
    assert said in card["summary"]
    assert _updated_dose(card) == updated


def test_one_tablet_is_said_in_the_singular(client: Client):
    card = _card(client, 1, "{pill}")
    assert "1 tablet once daily becomes" in card["detail"]
    assert "{pill}" not in card["detail"]
