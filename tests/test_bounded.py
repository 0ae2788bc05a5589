"""Issue 12, item 8: the work and the answer of one call are bounded, each by a defined answer.

4,000 unreadable results once gave a 1.2 GB answer after 10-14 s, and a 1 MB patientId was
echoed into a 32 MB one.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import orjson

from cds_service.cards.bounded import written
from cds_service.protocol.messages import CdsResponse
from tests.conftest import Client, client_for, request_fixture

SIGN = "/cds-services/oncology-order-sign"
JSON = {"content-type": "application/json"}


def broken_creatinines(count: int) -> dict[str, Any]:
    """The DPYD fixture with ``count`` creatinine results whose date has a month 13."""
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    for index in range(count):
        body["prefetch"]["pgx"]["entry"].append(
            {
                "resource": {
                    "resourceType": "Observation",
                    "id": f"creatinine-{index}",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "2160-0"}]},
                    "subject": {"reference": "Patient/pt-dpyd-c1905-het"},
                    "effectiveDateTime": "2026-13-45",
                    "valueQuantity": {"value": 1.1, "unit": "mg/dL"},
                }
            }
        )
    return body


def test_4000_unreadable_results_in_1_mb_are_one_card():
    """The answer grows with the kinds of problem, not their count."""
    body = json.dumps(broken_creatinines(4000)).encode()
    assert 0.9e6 < len(body) < 1.3e6
    with client_for(max_body_bytes=2 * 1024 * 1024) as client:
        response = client.post(SIGN, content=body, headers=JSON)
    assert response.status_code == 200
    assert len(response.content) < 100_000
    cards = response.json()["cards"]
    topics = [card["source"]["topic"]["code"] for card in cards]
    assert sorted(topics) == ["dpyd-intermediate-as1", "finding-unreadable"]
    broken = cards[topics.index("finding-unreadable")]
    assert "and 3999 more" in broken["summary"]
    assert "Observation/creatinine-1 " in broken["detail"]
    assert "and 3997 more" in broken["detail"]


def test_a_1_mb_patient_id_is_a_400_not_an_echo():
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    body["context"]["patientId"] = "p" * 1024 * 1024
    with client_for(max_body_bytes=2 * 1024 * 1024) as client:
        response = client.post(SIGN, content=json.dumps(body), headers=JSON)
    assert response.status_code == 400
    assert len(response.content) < 2000
    assert response.json()["issue"][0]["expression"] == ["context.patientId"]


def test_resource_ids_longer_than_64_characters_are_a_400(client: Client):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    sent = copy.deepcopy(body)
    sent["prefetch"]["pgx"]["entry"][1]["resource"]["id"] = "x" * 65
    response = client.post(SIGN, json=sent)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["prefetch.pgx.entry[1].resource.id"]
    sent = copy.deepcopy(body)
    sent["prefetch"]["patient"]["id"] = "x" * 65
    response = client.post(SIGN, json=sent)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["prefetch.patient.id"]
    sent = copy.deepcopy(body)  # an outcome is not read: its id is echoed nowhere
    outcome = {"resourceType": "OperationOutcome", "id": "x" * 65, "issue": []}
    sent["prefetch"]["pgx"]["entry"].append({"resource": outcome, "search": {"mode": "outcome"}})
    response = client.post(SIGN, json=sent)
    assert response.status_code == 200
    assert "x" * 65 not in response.text
    body["context"]["draftOrders"]["entry"][0]["resource"]["id"] = "x" * 65
    response = client.post(SIGN, json=body)
    assert response.status_code == 400
    assert "x" * 65 not in response.text
    body["context"]["draftOrders"]["entry"][0]["resource"]["id"] = "x" * 64
    assert client.post(SIGN, json=body).status_code == 200


def test_an_answer_over_its_limit_keeps_the_most_severe_cards_and_says_so(client: Client):
    cards = client.post(SIGN, json=request_fixture("dpyd-2a-13-capecitabine.order-sign")).json()
    severe = CdsResponse.model_validate(cards).cards[0]
    info = severe.model_copy(update={"uuid": "i", "indicator": "info", "summary": "minor"})
    response = CdsResponse(cards=[info, info.model_copy(update={"uuid": "j"}), severe])
    limit = len(json.dumps(severe.wire())) + 2500
    shown, body = written(response, limit)
    answer = json.loads(body)
    assert len(body) <= limit
    assert answer == shown.wire()
    kept = [card["uuid"] for card in answer["cards"]]
    assert kept[0] == severe.uuid
    notice = answer["cards"][-1]
    assert notice["source"]["topic"]["code"] == "answer-too-large"
    assert notice["summary"].startswith("2 more cards were not sent")
    assert written(response, 10**6) == (response, orjson.dumps(response.wire()))


def test_an_answer_of_exactly_the_limit_is_sent_whole_and_one_byte_less_is_not():
    """The limit is of the answer's bytes: the service sizes the answer it sends, not its
    cards one by one with room to spare."""
    request = request_fixture("dpyd-2a-13-capecitabine.order-sign")
    with client_for() as client:
        whole = client.post(SIGN, json=request)
    assert whole.status_code == 200
    size, cards = len(whole.content), whole.json()["cards"]
    with client_for(max_response_bytes=size) as client:
        exact = client.post(SIGN, json=request)
    assert exact.content == whole.content
    with client_for(max_response_bytes=size - 1) as client:
        under = client.post(SIGN, json=request)
    assert len(under.content) <= size - 1
    assert under.json()["cards"][-1]["source"]["topic"]["code"] == "answer-too-large"
    assert len(under.json()["cards"]) <= len(cards)
