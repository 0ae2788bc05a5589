"""An Oncotype DX Breast test in the draft orders, where ASCO 2022 says its score should not decide.

The patient is the fixture woman of 45, ER+, HER2-, with a premenopausal state recorded
(SNOMED CT 22636003, knowledge/conditions.yaml); her pN is set per test. The test order is a
draft ServiceRequest beside the tamoxifen order, as an EHR sends an order set.
"""

from __future__ import annotations

from typing import Any

import pytest

from cds_service import facts
from cds_service.prefetch.record import PatientRecord
from tests.conftest import Client, request_fixture
from tests.fixture_cases import TODAY

NAME = "tamoxifen-alone-rs-20-age-45"
PN = {"N0": "1229947003", "N1": "1229951001", "N2": "1229957002"}


def _with_oncotype_order(pn: str, code_text: str) -> dict[str, Any]:
    body = request_fixture(f"{NAME}.order-sign")
    for entry in body["prefetch"]["oncology"]["entry"]:
        if entry["resource"]["id"] == f"obs-pn-{NAME}":
            entry["resource"]["valueCodeableConcept"]["coding"][0]["code"] = PN[pn]
    body["prefetch"]["conditions"].setdefault("entry", []).append(
        {
            "resource": {
                "resourceType": "Condition",
                "id": "cond-premenopausal",
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": "active",
                        }
                    ]
                },
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": "22636003"}]},
                "subject": {"reference": f"Patient/pt-{NAME}"},
            }
        }
    )
    body["context"]["draftOrders"]["entry"].append(
        {
            "resource": {
                "resourceType": "ServiceRequest",
                "id": "sr-oncotype-draft",
                "status": "draft",
                "intent": "order",
                "code": {"text": code_text},
                "subject": {"reference": f"Patient/pt-{NAME}"},
            }
        }
    )
    return body


def _topics(client: Client, body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    cards = client.post("/cds-services/oncology-order-sign", json=body).json()["cards"]
    return {card["source"]["topic"]["code"]: card for card in cards}


def test_premenopausal_n1_is_told_the_score_should_not_decide(client: Client):
    topics = _topics(client, _with_oncotype_order("N1", "Oncotype DX Breast Recurrence Score"))
    card = topics["oncotype-order-premenopausal-n1"]
    assert card["indicator"] == "info"
    assert "ServiceRequest/sr-oncotype-draft" in card["detail"]


def test_four_or_more_nodes_is_told_no_assay_guides_chemotherapy(client: Client):
    topics = _topics(client, _with_oncotype_order("N2", "Oncotype DX Breast"))
    assert "oncotype-order-four-or-more-nodes" in topics


@pytest.mark.parametrize("text", ["Oncotype DX Breast Recurrence Score", "Oncotype DX Colon"])
def test_node_negative_or_another_test_gets_no_card(client: Client, text: str):
    pn = "N0" if "Breast" in text else "N1"
    topics = _topics(client, _with_oncotype_order(pn, text))
    assert not [t for t in topics if t.startswith("oncotype-order")]


def test_an_assay_order_that_is_not_valid_fhir_is_said_not_dropped(rule_set):
    """The order-time assay check cannot run on it: the data-quality card says so."""
    order = {
        "resourceType": "ServiceRequest",
        "id": "sr-1",
        "status": "draft",
        "intent": "order",
        "code": {"text": "Oncotype DX Breast Recurrence Score"},
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "not a date",
    }
    found = facts.extract(PatientRecord("p1", None, [], [order]), rule_set.knowledge, TODAY)
    assert not [f for f in found if isinstance(f, facts.DraftTest)]
    (unread,) = [f for f in found if isinstance(f, facts.Unreadable)]
    assert (unread.resource, unread.role) == ("ServiceRequest/sr-1", "draft_order")
    assert unread.finding
