"""CDS Hooks protocol: discovery, service calls, feedback, and errors a client can act on."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from cds_service.engine.durable import MAX_FACTS
from cds_service.protocol.messages import FeedbackRequest
from cds_service.protocol.outcomes import invalid
from tests.conftest import Client, client_for, request_fixture

ORDER_SIGN = "/cds-services/oncology-order-sign"
JSON = {"content-type": "application/json"}


def outcome(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert "Traceback" not in response.text
    return body["issue"][0]


def no_empty_members(value: Any, path: str = "") -> None:
    if isinstance(value, dict):
        assert value, f"empty object at {path}"
        for key, item in value.items():
            assert item is not None, f"null at {path}.{key}"
            no_empty_members(item, f"{path}.{key}")
    elif isinstance(value, list):
        assert value, f"empty list at {path}"
        for index, item in enumerate(value):
            no_empty_members(item, f"{path}[{index}]")
    elif isinstance(value, str):
        assert value, f"empty string at {path}"


def test_discovery_lists_the_three_hooks_with_prefetch(client: Client):
    services = client.get("/cds-services").json()["services"]
    assert sorted(s["hook"] for s in services) == ["order-select", "order-sign", "patient-view"]
    for service in services:
        assert service["description"]
        assert service["title"]
        assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        assert "http://loinc.org|84413-4" in service["prefetch"]["pgx"]


def test_card_is_spec_exact(client: Client):
    response = client.post(
        ORDER_SIGN, json=request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    )
    assert response.status_code == 200
    body = response.json()
    no_empty_members(body["cards"], "cards")
    (card,) = body["cards"]
    assert card["indicator"] in {"info", "warning", "critical"}
    assert len(card["summary"]) < 140
    assert card["selectionBehavior"] == "at-most-one"
    assert all(s["uuid"] for s in card["suggestions"])
    assert all(
        a["type"] in {"create", "update", "delete"}
        for s in card["suggestions"]
        for a in s["actions"]
    )
    assert all(r["display"] for r in card["overrideReasons"])
    assert card["source"]["topic"]["code"] == "dpyd-intermediate-as1"


def test_no_guidance_is_an_empty_card_list(client: Client):
    response = client.post(ORDER_SIGN, json=request_fixture("no-oncology.order-sign"))
    assert response.json() == {"cards": []}


def test_extension_objects_and_unknown_members_are_accepted(client: Client):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    body["extension"] = {"com.epic.cdshooks.request.bpa-trigger-action": "23"}
    body["context"]["extension"] = {"org.example.flag": True}
    body["somethingNew"] = 1
    assert len(client.post(ORDER_SIGN, json=body).json()["cards"]) == 1


def test_malformed_json(client: Client):
    issue = outcome(client.post(ORDER_SIGN, content=b'{"hook": ', headers=JSON), 400)
    assert "malformed JSON" in issue["diagnostics"]


@pytest.mark.parametrize(
    ("remove", "expression"),
    [
        (("hookInstance",), "hookInstance"),
        (("context",), "context"),
        (("context", "draftOrders"), "context.draftOrders"),
        (("context", "userId"), "context.userId"),
    ],
)
def test_missing_required_member_is_named(client: Client, remove, expression):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    target = body
    for key in remove[:-1]:
        target = target[key]
    del target[remove[-1]]
    issue = outcome(client.post(ORDER_SIGN, json=body), 400)
    assert issue["code"] == "required"
    assert issue["expression"] == [expression]


def test_draft_orders_must_be_a_bundle(client: Client):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    body["context"]["draftOrders"] = {"resourceType": "MedicationRequest"}
    issue = outcome(client.post(ORDER_SIGN, json=body), 400)
    assert issue["expression"] == ["context.draftOrders.resourceType"]


def test_draft_order_without_resource_type_is_400_not_silence(client: Client):
    """An order the service cannot type would be skipped: "no conflict" where one may be."""
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    del body["context"]["draftOrders"]["entry"][0]["resource"]["resourceType"]
    issue = outcome(client.post(ORDER_SIGN, json=body), 400)
    assert issue["expression"] == ["context.draftOrders.entry[0].resource"]
    assert "resourceType" in issue["diagnostics"]


@pytest.mark.parametrize(
    ("key", "member", "value", "where"),
    [
        ("pgx", "entry", 5, "prefetch.pgx.entry"),
        ("pgx", "link", 5, "prefetch.pgx.link"),
        (
            "pgx",
            "entry",
            [{"search": "x", "resource": {"resourceType": "Patient"}}],
            "prefetch.pgx.entry[0].search",
        ),
        ("pgx", "entry", ["not an entry"], "prefetch.pgx.entry[0]"),
    ],
)
def test_malformed_prefetch_bundle_is_400_naming_the_member(
    client: Client, key: str, member: str, value: Any, where: str
):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    body["prefetch"][key][member] = value
    issue = outcome(client.post(ORDER_SIGN, json=body), 400)
    assert issue["expression"] == [where]


def test_malformed_operation_outcome_in_prefetch_is_400(client: Client):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    body["prefetch"]["pgx"] = {"resourceType": "OperationOutcome", "issue": 5}
    issue = outcome(client.post(ORDER_SIGN, json=body), 400)
    assert issue["expression"] == ["prefetch.pgx.issue"]


def test_a_record_too_large_to_check_is_413():
    """More distinct facts than the engine takes in one call: here, one per draft order
    (unreadable resources of one kind are grouped into one fact, so they cannot do it)."""
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    (template,) = [e["resource"] for e in body["context"]["draftOrders"]["entry"]]
    body["context"]["draftOrders"]["entry"] = [
        {"resource": {**template, "id": f"m{n}"}} for n in range(MAX_FACTS + 1)
    ]
    with client_for(max_body_bytes=50 * 1024 * 1024) as roomy:
        issue = outcome(roomy.post(ORDER_SIGN, json=body), 413)
    assert issue["code"] == "too-costly"
    assert issue["expression"] == ["prefetch"]
    assert f"at most {MAX_FACTS}" in issue["diagnostics"]


def test_authorization_without_server_breaks_cds_r_1(client: Client):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    del body["fhirServer"]
    body["fhirAuthorization"] = {
        "access_token": "secret-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "cds",
    }
    issue = outcome(client.post(ORDER_SIGN, json=body), 400)
    assert "cds-r-1" in issue["diagnostics"]
    assert "secret-token" not in issue["diagnostics"]


def test_hook_that_does_not_match_the_service(client: Client):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    body["hook"] = "patient-view"
    issue = outcome(client.post(ORDER_SIGN, json=body), 400)
    assert issue["expression"] == ["hook"]


def test_selection_outside_draft_orders(client: Client):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-select")
    body["context"]["selections"] = ["MedicationRequest/not-there"]
    issue = outcome(client.post("/cds-services/oncology-order-select", json=body), 400)
    assert issue["expression"] == ["context.selections"]
    assert (
        "MedicationRequest/not-there is not in draftOrders (there: MedicationRequest/"
        in (issue["diagnostics"])
    )


def test_unknown_service(client: Client):
    issue = outcome(client.post("/cds-services/nope", json={}), 404)
    assert issue["code"] == "not-found"


def test_unknown_path_and_wrong_method_are_operation_outcomes(client: Client):
    outcome(client.get("/nowhere"), 404)
    outcome(client.get(ORDER_SIGN), 405)


def test_oversize_body(client: Client):
    issue = outcome(client.post(ORDER_SIGN, content=b" " * (300 * 1024), headers=JSON), 413)
    assert issue["code"] == "too-costly"


def not_run(response: Any) -> dict[str, Any]:
    """The one "checks could not run" card of a 200 answer."""
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    assert "dpyd-test-first" not in [c["source"]["topic"]["code"] for c in cards]  # not "no data"
    (card,) = [c for c in cards if c["source"]["topic"]["code"].startswith("checks-not-run")]
    return card


def test_missing_prefetch_key_blocks_the_checks_that_read_it(client: Client):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    del body["prefetch"]["pgx"]
    card = not_run(client.post(ORDER_SIGN, json=body))
    assert card["indicator"] == "warning"  # the DPYD checks are about the capecitabine order
    assert "Capecitabine" in card["summary"]
    assert "No DPYD result on file" in card["detail"]
    assert "prefetch 'pgx'" in card["detail"]
    assert "CDS_FHIR_SERVERS" in card["detail"]
    assert "No CYP2D6 result on file" not in card["detail"]  # only about tamoxifen: not ordered


def test_absent_prefetch_is_412_not_a_crash(client: Client):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    del body["prefetch"]
    outcome(client.post(ORDER_SIGN, json=body), 412)


def test_operation_outcome_in_prefetch_is_said_on_a_card(client: Client):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    body["prefetch"]["pgx"] = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout"}],
    }
    card = not_run(client.post(ORDER_SIGN, json=body))
    assert "reported an error" in card["detail"]


def test_null_prefetch_means_no_results_on_file(client: Client):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    body["prefetch"]["pgx"] = None
    (card,) = client.post(ORDER_SIGN, json=body).json()["cards"]
    assert card["source"]["topic"]["code"] == "dpyd-test-first"


def test_invalid_draft_order_is_reported_not_rejected(client: Client):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    body["context"]["draftOrders"]["entry"][0]["resource"]["authoredOn"] = "yesterday"
    response = client.post(ORDER_SIGN, json=body)
    assert response.status_code == 200
    (card,) = response.json()["cards"]
    assert card["source"]["topic"]["code"] == "draft-order-unreadable"
    assert "authoredOn" in card["detail"]


def test_unexpected_failure_is_500_without_a_trace(client: Client, monkeypatch):
    from cds_service import service

    def explode(*_: Any) -> None:
        raise RuntimeError("internal detail that must not leak")

    monkeypatch.setattr(service, "decide", explode)
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    issue = outcome(client.post(ORDER_SIGN, json=body), 500)
    assert "internal detail" not in issue["diagnostics"]


FEEDBACK = ORDER_SIGN + "/feedback"


def test_feedback_accepted_and_overridden(client: Client):
    body = {
        "feedback": [
            {
                "card": "c1",
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": "s1"}],
                "outcomeTimestamp": "2026-11-21T10:00:00Z",
            },
            {
                "card": "c2",
                "outcome": "overridden",
                "outcomeTimestamp": "2026-11-21T10:00:00+01:00",
                "overrideReason": {
                    "reason": {"system": "urn:x", "code": "tdm-guided", "display": "TDM"},
                    "userComment": "TDM planned",
                },
            },
        ]
    }
    response = client.post(FEEDBACK, json=body)
    assert response.status_code == 200
    assert response.json() == {"received": 2}


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        ({"card": "c", "outcome": "maybe", "outcomeTimestamp": "2026-11-21T10:00:00Z"}, "outcome"),
        (
            {"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-11-21T10:00:00Z"},
            "cds-fb-2",
        ),
        (
            {
                "card": "c",
                "outcome": "overridden",
                "overrideReason": {},
                "outcomeTimestamp": "2026-11-21T10:00:00Z",
            },
            "cds-fb-3",
        ),
        (
            {"card": "c", "outcome": "overridden", "outcomeTimestamp": "2026-11-21T10:00:00"},
            "time-zone",
        ),
    ],
)
def test_feedback_breaking_the_spec_is_rejected(client: Client, item, fragment):
    issue = outcome(client.post(FEEDBACK, json={"feedback": [item]}), 400)
    assert fragment in issue["diagnostics"]


def test_a_long_list_of_problems_says_how_many_more():
    with pytest.raises(ValidationError) as caught:
        FeedbackRequest.model_validate({"feedback": [{}] * 30})
    issues = invalid(caught.value).issues
    assert len(issues) == 21
    assert issues[-1].message.startswith("and ")
    assert issues[0].expression == "feedback[0].card"
