"""The CDS Hooks service-side checklist, item by item (docs/cds-hooks-checklist.md maps each).

Response models are tried with cards that break each invariant: they must not build, so such a
card cannot be sent. Requests are tried with what real clients send: extensions anywhere, unknown
members, Bundles without ``type``, orders without a drug, ``category`` as an object, and other
request types beside the MedicationRequests.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from cds_service.protocol.messages import (
    Action,
    Card,
    FeedbackItem,
    HookRequest,
    ServiceDefinition,
    Suggestion,
)
from tests.conftest import Client, client_for, copy_rules, request_fixture

SIGN = "/cds-services/oncology-order-sign"
SOURCE = {"label": "CPIC"}


def card(**changes: Any) -> dict[str, Any]:
    return (
        {"uuid": "c-1", "summary": "Reduce the dose", "indicator": "warning"}
        | {"source": SOURCE}
        | changes
    )


def suggestion(**changes: Any) -> dict[str, Any]:
    action = {"type": "delete", "description": "Remove", "resourceId": "MedicationRequest/m1"}
    return {"label": "Remove the order", "uuid": "s-1", "actions": [action]} | changes


# --- 1.7 card schema: an invalid card cannot be built ---------------------------------------


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"summary": "x" * 140}, "summary < 140 characters"),
        ({"summary": ""}, "summary required (G2: no empty strings)"),
        ({"indicator": "hard-stop"}, "indicator info|warning|critical"),
        ({"indicator": "WARNING"}, "enums are lower case"),
        ({"source": {}}, "source.label required"),
        ({"source": {"label": "x", "url": "cpicpgx.org"}}, "source.url absolute"),
        ({"source": {"label": "x", "icon": "/icon.png"}}, "source.icon absolute"),
        ({"source": {"label": "x", "topic": {"code": "x"}}}, "Coding.system required"),
        ({"detail": ""}, "G2: no empty detail"),
        ({"suggestions": [suggestion()]}, "cds-resp-6: selectionBehavior with suggestions"),
        ({"suggestions": [], "selectionBehavior": "any"}, "G2: no empty list"),
        ({"selectionBehavior": "all", "suggestions": [suggestion()]}, "selectionBehavior enum"),
        (
            {
                "selectionBehavior": "at-most-one",
                "suggestions": [
                    suggestion(isRecommended=True),
                    suggestion(uuid="s-2", isRecommended=True),
                ],
            },
            "cds-resp-1: at-most-one recommended",
        ),
        ({"overrideReasons": [{"system": "s", "code": "c"}]}, "cds-resp-4: reason display"),
        ({"links": [{"label": "x", "url": "https://x.org", "type": "web"}]}, "link type enum"),
        ({"links": [{"label": "x", "url": "x.org", "type": "absolute"}]}, "link url absolute"),
        (
            {"links": [{"label": "x", "url": "https://x", "type": "absolute", "appContext": "a"}]},
            "cds-resp-3: appContext only for smart links",
        ),
        ({"unknownMember": 1}, "no members the spec does not define"),
        ({"uuid": None}, "uuid for feedback"),
    ],
)
def test_a_card_breaking_the_spec_cannot_be_built(changes: dict[str, Any], why: str):
    with pytest.raises(ValidationError):
        Card.model_validate(card(**changes))


@pytest.mark.parametrize(
    ("action", "why"),
    [
        ({"type": "delete", "resourceId": "MedicationRequest/m1"}, "cds-resp-5: description"),
        ({"type": "delete", "description": "d"}, "cds-resp-2: delete names resourceId"),
        ({"type": "DELETE", "description": "d", "resourceId": "X/1"}, "type is lower case"),
        ({"type": "create", "description": "d"}, "create carries the resource"),
        (
            {"type": "create", "description": "d", "resource": '{"resourceType": "X"}'},
            "a resource is an object, never a string",
        ),
        ({"type": "delete", "description": "d", "resourceId": "m1"}, "resourceId is Type/id"),
    ],
)
def test_an_action_breaking_the_spec_cannot_be_built(action: dict[str, Any], why: str):
    with pytest.raises(ValidationError):
        Action.model_validate(action)


def test_suggestion_action_selection_behavior_is_an_enum():  # cds-resp-7
    built = Suggestion.model_validate(suggestion(actionSelectionBehavior="any"))
    assert built.wire()["actionSelectionBehavior"] == "any"
    with pytest.raises(ValidationError):
        Suggestion.model_validate(suggestion(actionSelectionBehavior="some"))


def test_valid_card_parts_build():
    built = Card.model_validate(
        card(
            detail="**Evidence**",
            selectionBehavior="any",
            suggestions=[
                suggestion(isRecommended=True),
                suggestion(uuid="s-2", isRecommended=True),
            ],
            overrideReasons=[{"system": "s", "code": "c", "display": "Reason"}],
            links=[
                {"label": "App", "url": "https://app.example", "type": "smart", "appContext": "a"}
            ],
            source={"label": "x", "url": "https://x.org", "topic": {"system": "s", "code": "c"}},
        )
    )
    wire = built.wire()
    assert Card.model_validate(wire) == built
    assert "resource" not in wire["suggestions"][0]["actions"][0]  # G2: absent, not null


def test_discovery_entry_needs_its_required_fields():
    for missing in ("hook", "id", "description"):
        entry = {"hook": "order-sign", "id": "x", "title": "t", "description": "d"}
        del entry[missing]
        with pytest.raises(ValidationError):
            ServiceDefinition.model_validate(entry)
    with pytest.raises(ValidationError):
        ServiceDefinition(hook="h", id="i", title="t", description="d", version="2.0")


# --- 1.2 discovery ---------------------------------------------------------------------------


def test_discovery_announces_the_spec_version(client: Client):  # 3.0 `version`
    response = client.get("/cds-services")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert {s["version"] for s in response.json()["services"]} == {"2.0.1"}


def test_discovery_with_no_services_is_an_empty_list(tmp_path: Path):
    rules = copy_rules(tmp_path)
    (rules / "services.yaml").write_text("services: []\n")
    with client_for(rules_dir=rules) as client:
        response = client.get("/cds-services")
    assert (response.status_code, response.json()) == (200, {"services": []})


# --- 1.3 / 1.5 requests ----------------------------------------------------------------------


def test_user_id_follows_ord_1(client: Client):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    body["context"]["userId"] = "prac-onc-hartley"
    response = client.post(SIGN, json=body)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["context.userId"]


def test_patient_scope_without_patient_is_accepted_with_a_warning(caplog):  # cds-r-2
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    body["fhirAuthorization"] = {
        "access_token": "t0k",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/Observation.rs",
        "subject": "cds",
    }
    with caplog.at_level(logging.WARNING):
        HookRequest.model_validate(body)
    assert "cds-r-2" in caplog.text
    assert "t0k" not in caplog.text


def test_token_type_is_bearer():
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    body["fhirAuthorization"] = {
        "access_token": "t",
        "token_type": "MAC",
        "expires_in": 1,
        "scope": "s",
        "subject": "c",
    }
    with pytest.raises(ValidationError):
        HookRequest.model_validate(body)


# --- 1.9 feedback ----------------------------------------------------------------------------


def test_feedback_accepted_without_suggestions_breaks_cds_fb_2():
    with pytest.raises(ValidationError, match="cds-fb-2"):
        FeedbackItem(card="c", outcome="accepted", outcomeTimestamp="2026-11-21T10:00:00Z")


# --- tolerance for what real clients send ----------------------------------------------------


def cards_for(client: Client, body: dict[str, Any]) -> list[str]:
    response = client.post(SIGN, json=body)
    assert response.status_code == 200, response.text
    return [c["source"]["topic"]["code"] for c in response.json()["cards"]]


@pytest.fixture
def sign_body() -> dict[str, Any]:
    return request_fixture("dpyd-c1905-het-capecitabine.order-sign")


def draft(body: dict[str, Any]) -> dict[str, Any]:
    return body["context"]["draftOrders"]["entry"][0]["resource"]


def test_extensions_anywhere(client: Client, sign_body: dict[str, Any]):
    extension = {"com.example.flag": {"on": True}}
    sign_body["extension"] = extension
    sign_body["context"]["extension"] = extension
    sign_body["context"]["draftOrders"]["extension"] = extension
    draft(sign_body)["extension"] = [{"url": "http://example.org/x", "valueString": "y"}]
    draft(sign_body)["_status"] = {"extension": [{"url": "http://example.org/x", "valueCode": "z"}]}
    sign_body["prefetch"]["pgx"]["entry"][0]["resource"]["extension"] = [
        {"url": "http://example.org/lab", "valueString": "batch 7"}
    ]
    sign_body["fhirAuthorization"] = {
        "access_token": "t",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "user/*.rs",
        "subject": "cds",
        "extension": extension,
    }
    assert cards_for(client, sign_body) == ["dpyd-intermediate-as1"]


def test_unknown_members_anywhere(client: Client, sign_body: dict[str, Any]):
    sign_body["somethingNew"] = {"a": 1}
    sign_body["context"]["futureField"] = [1, 2]
    sign_body["context"]["draftOrders"]["entry"][0]["futureField"] = "x"
    assert cards_for(client, sign_body) == ["dpyd-intermediate-as1"]


def test_draft_orders_without_type(client: Client, sign_body: dict[str, Any]):
    del sign_body["context"]["draftOrders"]["type"]
    assert cards_for(client, sign_body) == ["dpyd-intermediate-as1"]


def test_a_draft_order_with_no_drug_yet_is_not_checked(client: Client, sign_body: dict[str, Any]):
    undecided = copy.deepcopy(draft(sign_body))
    undecided["id"] = "medrx-draft-undecided"
    del undecided["medicationCodeableConcept"]
    sign_body["context"]["draftOrders"]["entry"].append({"resource": undecided})
    assert cards_for(client, sign_body) == ["dpyd-intermediate-as1"]
    sign_body["context"]["draftOrders"]["entry"] = [{"resource": undecided}]
    assert cards_for(client, sign_body) == []


def test_category_as_an_object(client: Client, sign_body: dict[str, Any]):
    draft(sign_body)["category"] = {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                "code": "outpatient",
            }
        ]
    }
    genotype = sign_body["prefetch"]["pgx"]["entry"][0]["resource"]
    genotype["category"] = genotype["category"][1]
    assert cards_for(client, sign_body) == ["dpyd-intermediate-as1"]


def test_other_request_types_beside_medication_requests(client: Client, sign_body: dict[str, Any]):
    patient = {"reference": "Patient/pt-dpyd-c1905-het"}
    sign_body["context"]["draftOrders"]["entry"] += [
        {
            "resource": {
                "resourceType": "ServiceRequest",
                "id": "sr-cbc",
                "status": "draft",
                "intent": "order",
                "code": {"text": "Complete blood count"},
                "subject": patient,
            }
        },
        {
            "resource": {
                "resourceType": "NutritionOrder",
                "id": "no-1",
                "status": "draft",
                "intent": "order",
                "patient": patient,
                "dateTime": "2026-10-02",
            }
        },
        {
            "resource": {
                "resourceType": "DeviceRequest",
                "id": "dr-pump",
                "status": "draft",
                "intent": "order",
                "codeCodeableConcept": {"text": "Infusion pump"},
                "subject": patient,
            }
        },
        {"fullUrl": "urn:uuid:8c2f6f3e-0000-4000-8000-000000000000"},
    ]
    assert cards_for(client, sign_body) == ["dpyd-intermediate-as1"]


# --- 1.11 CORS and 3.0 OperationOutcome bodies ----------------------------------------------

ORIGIN = "https://sandbox.example.org"


@pytest.fixture
def cors_client() -> Iterator[Client]:
    with client_for(cors_origins=(ORIGIN,)) as client:
        yield client


def preflight(client: Client, origin: str) -> Any:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    return client._loop.run_until_complete(client._client.options(SIGN, headers=headers))


def test_cors_is_off_by_default(client: Client):
    response = preflight(client, ORIGIN)
    assert "access-control-allow-origin" not in response.headers
    assert response.json()["resourceType"] == "OperationOutcome"
    get = client._loop.run_until_complete(
        client._client.get("/cds-services", headers={"Origin": ORIGIN})
    )
    assert "access-control-allow-origin" not in get.headers


def test_cors_allows_the_configured_origin(cors_client: Client):
    response = preflight(cors_client, ORIGIN)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    get = cors_client._loop.run_until_complete(
        cors_client._client.get("/cds-services", headers={"Origin": ORIGIN})
    )
    assert get.headers["access-control-allow-origin"] == ORIGIN


def test_cors_refuses_other_origins_with_an_operation_outcome(cors_client: Client):
    response = preflight(cors_client, "https://evil.example")
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    assert response.json()["issue"][0]["code"] == "forbidden"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("get", "/nowhere", None, 404),
        ("get", SIGN, None, 405),
        ("post", "/cds-services/none", {}, 404),
        ("post", SIGN, [], 400),
        ("post", SIGN, {"hook": "order-sign"}, 400),
        ("post", SIGN + "/feedback", {"feedback": []}, 400),
    ],
)
def test_every_error_is_an_operation_outcome(client: Client, method, path, body, status):
    response = client.get(path) if method == "get" else client.post(path, json=body)
    assert response.status_code == status
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["severity"] == "error"
