"""What real clients and broken records send: read leniently where FHIR allows, never a 500.

Issue 12, items 4 and 5. The CDS Hooks Sandbox sends ``reasonCode`` as one object; any 0..*
member may arrive so, in any resource the rules read, and is read as a list of one with a note
in the card. A member of the wrong JSON type makes its resource "not valid FHIR": the answer is
a 200 whose cards say which check could not run (the README's promise), never a 500.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Client, request_fixture
from tests.mutations import resources

SIGN = "/cds-services/oncology-order-sign"
VIEW = "/cds-services/oncology-patient-view"


def answer(client: Client, body: dict[str, Any], path: str = SIGN) -> list[dict[str, Any]]:
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    assert all(len(card["summary"]) < 140 for card in cards)
    return cards


def topics(cards: list[dict[str, Any]]) -> list[str]:
    return sorted(card["source"]["topic"]["code"] for card in cards)


def find(body: dict[str, Any], reference: str) -> dict[str, Any]:
    return next(r for r in resources(body) if f"{r['resourceType']}/{r.get('id')}" == reference)


def draft(body: dict[str, Any]) -> dict[str, Any]:
    return body["context"]["draftOrders"]["entry"][0]["resource"]


# --- item 4: a lone object for a 0..* member ---------------------------------------------------


def test_the_sandbox_reason_code_keeps_the_dpyd_card(client: Client):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    draft(body)["reasonCode"] = {
        "coding": [{"system": "http://snomed.info/sct", "code": "363406005"}]
    }
    cards = answer(client, body)
    assert topics(cards) == ["dpyd-intermediate-as1"]
    assert "reasonCode was sent as one item, read as a list of one" in cards[0]["detail"]


def test_a_lone_item_no_reader_reads_is_not_said_on_the_card(client: Client):
    """How an identifier was read changes nothing a card says, so the card citing the
    resource does not say it (``fhir.UNREAD``); a lone item a reader reads still is said.
    (The order's suggested update carries its identifiers, as a list: FHIR's shape.)"""
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    sound = [card["detail"] for card in answer(client, body)]
    lone = {"system": "urn:oid:1.2.3.4", "value": "sent-alone"}
    draft(body)["identifier"] = lone
    find(body, DPYD_RESULT)["identifier"] = lone
    assert [card["detail"] for card in answer(client, body)] == sound
    assert "**Read with care**" not in sound[0]
    draft(body)["reasonCode"] = {"text": "read by the rules"}
    noted = answer(client, body)[0]["detail"]
    assert "reasonCode was sent as one item, read as a list of one" in noted
    assert "identifier" not in noted


def _lone(value: Any) -> Iterator[None]:
    """Every list of one object below ``value`` replaced, in place, by that object."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in list(items):
        if isinstance(child, list) and len(child) == 1 and isinstance(child[0], dict):
            value[key] = child[0]
            child = child[0]
        if isinstance(child, dict | list):
            yield from _lone(child)
    yield None


@pytest.mark.parametrize(
    ("fixture", "path"),
    [
        ("dpyd-c1905-het-capecitabine.order-sign", SIGN),
        ("anthracycline-mg-mosteller.order-sign", SIGN),
        ("decipher-positive-margin.patient-view", VIEW),
        ("mammaprint-n0-grade2-2p1cm.patient-view", VIEW),
        ("egfr-l858r-stage-ii.patient-view", VIEW),
    ],
)
def test_every_list_of_one_sent_alone_gives_the_same_cards(client: Client, fixture: str, path: str):
    body = request_fixture(fixture)
    expected = topics(answer(client, body, path))
    for resource in resources(body):
        list(_lone(resource))
    cards = answer(client, body, path)
    assert topics(cards) == expected
    assert all("**Read with care**" in card["detail"] for card in cards if card["detail"])


# --- item 5: wrong JSON types are "not valid FHIR", never a 500 --------------------------------

WRONG = [7, True, ["a"], {"a": 1}, "text"]
DPYD_RESULT = "Observation/obs-geno-dpyd-c1905-het"


@pytest.mark.parametrize("value", WRONG, ids=repr)
@pytest.mark.parametrize("member", ["coding", "code", "component", "status"])
def test_a_dpyd_result_of_the_wrong_shape_is_said_not_dropped(
    client: Client, member: str, value: Any
):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    result = find(body, DPYD_RESULT)
    if member == "coding":
        result["code"]["coding"] = value
    else:
        result[member] = value
    cards = answer(client, body)
    assert topics(cards), "an all-clear for a DPYD heterozygote"
    if member == "status" and value == "text":  # valid FHIR: a result that is not final
        return
    said = [card["summary"] for card in cards if DPYD_RESULT in card["summary"]]
    assert any("could not be read" in summary for summary in said), topics(cards)


@pytest.mark.parametrize("value", WRONG, ids=repr)
@pytest.mark.parametrize("member", ["coding", "medicationCodeableConcept", "status", "intent"])
def test_a_draft_order_of_the_wrong_shape_is_not_checked_and_says_so(
    client: Client, member: str, value: Any
):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    if member == "coding":
        draft(body)["medicationCodeableConcept"]["coding"] = value
    else:
        draft(body)[member] = value
    assert topics(answer(client, body))


@pytest.mark.parametrize("value", WRONG, ids=repr)
@pytest.mark.parametrize("member", ["code", "status", "bodySite", "coding"])
def test_a_procedure_of_the_wrong_shape_gives_an_answer(client: Client, member: str, value: Any):
    body = request_fixture("decipher-positive-margin.patient-view")
    procedure = find(body, "Procedure/proc-rp-decipher-positive-margin")
    if member == "coding":
        procedure["code"]["coding"] = value
    else:
        procedure[member] = value
    answer(client, body, VIEW)


def test_a_draft_order_without_id_keeps_its_card_without_a_remove_suggestion(client: Client):
    body = request_fixture("dpyd-2a-13-capecitabine.order-sign")
    del draft(body)["id"]
    cards = answer(client, body)
    assert topics(cards) == ["dpyd-poor"]
    actions = [a for c in cards for s in c.get("suggestions") or () for a in s["actions"]]
    assert all(a["type"] != "delete" for a in actions)


def test_a_negative_height_gives_no_bsa_and_no_dose(client: Client):
    body = request_fixture("anthracycline-mg-mosteller.order-sign")
    height = next(
        r
        for r in resources(body)
        if r.get("code", {}).get("coding", [{}])[0].get("code") == "8302-2"
    )
    height["valueQuantity"]["value"] = -170
    cards = answer(client, body)
    assert any("not computed" in card["summary"] for card in cards)


def test_a_dose_above_64_bits_is_answered(client: Client):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    dose = draft(body)["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
    dose["value"] = 2**70
    cards = answer(client, body)
    # the DPYD card stays; the dose is out of any plausible range, so none is computed from it
    assert sorted(topics(cards)) == ["dpyd-intermediate-as1", "draft-dose-implausible"]


def test_a_huge_tumour_size_keeps_the_summary_within_140_characters(client: Client):
    body = request_fixture("mammaprint-n0-grade2-2p1cm.patient-view")
    size = find(body, "Observation/obs-size-mammaprint-n0-grade2-2p1cm")["component"][0]
    size["valueQuantity"]["value"] = 123456789012.5
    summaries = [card["summary"] for card in answer(client, body, VIEW)]
    assert all(len(summary) <= 140 for summary in summaries), summaries
    assert any("1.23457e+11 cm: implausible" in summary for summary in summaries), summaries


@pytest.mark.parametrize(
    ("fixture", "reference", "member"),
    [
        ("dpyd-c1905-het-capecitabine.order-sign", "Patient/pt-dpyd-c1905-het", "birthDate"),
        ("dpyd-c1905-het-capecitabine.order-sign", "Condition/cond-c1905-het-colon", "code"),
        ("decipher-positive-margin.patient-view", "Patient/pt-decipher-positive-margin", "gender"),
    ],
)
def test_a_record_resource_that_is_not_valid_fhir_gets_its_card(
    client: Client, fixture: str, reference: str, member: str
):
    """The README's promise: a 200 with a card naming the resource, never a silent drop."""
    body = request_fixture(fixture)
    find(body, reference)[member] = ["not", "a", "value"]
    cards = answer(client, body, SIGN if "order-sign" in fixture else VIEW)
    said = [card for card in cards if card["source"]["topic"]["code"] == "record-unreadable"]
    assert len(said) == 1
    assert reference in said[0]["summary"]
    assert member in said[0]["detail"]


def test_extensions_nested_500_deep_are_not_valid_fhir_not_a_500(client: Client):
    """As deep as the JSON parser allows, in a member a reader reads (a resource's own
    extensions are not read): the resource is unreadable, the call answered."""
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    find(body, DPYD_RESULT)["code"]["extension"] = "NESTED"
    nested = '{"url": "u"}'
    for _ in range(500):  # built as text: Python's json module stops at about 500 levels
        nested = '{"url": "u", "extension": [' + nested + "]}"
    text = json.dumps(body).replace('"NESTED"', f"[{nested}]")
    response = client.post(SIGN, content=text, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert "nested deeper than" in response.text


def test_a_url_of_the_wrong_type_deep_in_an_extension_is_not_a_500(client: Client):
    """Found by bench/fuzz.py (request 44244, seed 21): fhir-core called .startswith on a bool.
    Sent then as the result's own extension, which is no longer read; here in its code's."""
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    result = find(body, "Observation/obs-tximp-dpyd-c1905-het-capecitabine")
    artifact = {"url": "http://example.org/extension", "valueRelatedArtifact": {"type": "citation"}}
    artifact["valueRelatedArtifact"]["url"] = False
    result["code"]["extension"] = [artifact]
    cards = answer(client, body)
    assert any("could not be read" in card["summary"] for card in cards), topics(cards)
