"""The one card naming the checks that could not run: only those that could not have fired are
left out, and it is a warning whenever a check of a drug being ordered is among them.

"Could not check" must never become "nothing found": leaving a check off this card claims that
it could not have fired whatever the missing data held. The first test holds that claim against
every fixture: each check that gives a card with all data must be named when any key it reads
is taken away, and the card must then name the draft order that check was about.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from cds_service.engine.admission import admit
from cds_service.facts import ChecksNotRun, DraftMedication, extract
from cds_service.prefetch import keys as prefetch
from cds_service.ruleset.notrun import not_run
from cds_service.service import parse_request, read_context
from tests.conftest import FIXTURES, Client, request_fixture
from tests.fixture_cases import TODAY
from tests.test_card_text import problems

SIGN = "/cds-services/oncology-order-sign"
REFUSED = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}


def _listed(fact: ChecksNotRun | None) -> set[str]:
    """The check titles the card lists (sub-items of its queries)."""
    if fact is None:
        return set()
    return {line[4:] for line in fact.queries.splitlines() if line.startswith("  - ")}


def test_no_check_that_fires_is_left_off_when_its_data_is_missing(rule_set):
    titles = [rule.title for rule in rule_set.rules.values()]
    assert len(titles) == len(set(titles))  # a check is found on the card by its title
    checked = 0
    dropped: list[str] = []
    for path in sorted((FIXTURES / "requests").glob("*.json")):
        request = parse_request(json.loads(path.read_text(encoding="utf-8")))
        service = rule_set.service_for(request.hook)
        context = read_context(service, request)
        planned = prefetch.plan(request.prefetch, context, service.keys, TODAY)
        record = prefetch.record(context, planned, {})
        rules = rule_set.of_hook(request.hook)
        found = admit(extract(record, rule_set.knowledge, TODAY))
        fired = []
        for rule, match in rule_set.evaluate(request.hook, found):
            cited = {s for index in match.facts.values() for s in found[index].sources}
            drafts = {f.order for f in found if isinstance(f, DraftMedication)}
            fired.append((rule, cited & drafts))
        for key in sorted({key for rule, _ in fired for key in rule.needs}):
            without = replace(planned, have={k: v for k, v in planned.have.items() if k != key})
            less = admit(extract(prefetch.record(context, without, {}), rule_set.knowledge, TODAY))
            (fact,) = not_run(rules, {key: f"prefetch '{key}'"}, less, record) or [None]
            for rule, orders in fired:
                if key not in rule.needs:
                    continue
                checked += 1
                if rule.title not in _listed(fact):
                    dropped.append(f"{path.stem} without {key}: {rule.id} not listed")
                elif orders and not all(order in (fact.orders or "") for order in orders):
                    dropped.append(f"{path.stem} without {key}: {rule.id} not about {orders}")
    assert checked > 300
    assert dropped == []


def _blocked(client: Client, body: dict[str, Any], path: str = SIGN) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    cards = [
        c for c in response.json()["cards"] if "checks-not-run" in c["source"]["topic"]["code"]
    ]
    assert len(cards) == 1, [c["summary"] for c in cards]  # one card per answer
    assert problems(cards[0]) == []  # the clinician's words: titles from the rule files
    return cards[0]


def test_an_inhibitor_ordered_with_statements_missing_is_a_warning_about_it(client: Client):
    body = request_fixture("cyp2d6-paroxetine-on-tamoxifen.order-sign")
    body["prefetch"]["statements"] = REFUSED
    card = _blocked(client, body)
    assert card["source"]["topic"]["code"] == "checks-not-run"
    assert card["indicator"] == "warning"
    assert "aroxetine" in card["summary"]
    assert "CYP2D6 inhibitor ordered for a patient taking tamoxifen" in card["detail"]
    assert "prefetch 'statements'" in card["detail"]
    assert "No DPYD result on file" not in card["detail"]  # no fluoropyrimidine is ordered


def test_a_tamoxifen_order_with_no_pgx_names_the_tamoxifen_checks(client: Client):
    body = request_fixture("cyp2d6-pm-postmenopausal-tamoxifen.order-sign")
    del body["prefetch"]["pgx"]
    card = _blocked(client, body)
    assert card["indicator"] == "warning"
    assert "amoxifen" in card["summary"]
    for title in ("CYP2D6 poor metabolizer, postmenopausal, tamoxifen", "No CYP2D6 result on file"):
        assert f"  - {title}\n" in card["detail"] + "\n"
    assert "No DPYD result on file" not in card["detail"]


def test_checks_of_the_record_only_are_information(client: Client):
    name = "colon-t3n0-msi-h.patient-view"
    body = request_fixture(name)
    del body["prefetch"]["oncology"]
    card = _blocked(client, body, "/cds-services/oncology-patient-view")
    assert card["source"]["topic"]["code"] == "checks-not-run-record"
    assert card["indicator"] == "info"
    assert "prefetch 'oncology'" in card["detail"]
    assert "could not run" in card["summary"]


def test_a_drug_known_only_from_missing_data_keeps_its_checks(client: Client):
    """A draft naming a Medication sent only in a key that did not come is read as no order:
    nothing about draft orders can then be shown, so the DPYD checks stay on the card."""
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    (entry,) = [
        e
        for e in body["context"]["draftOrders"]["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    ]
    order = entry["resource"]
    medication = {
        "resourceType": "Medication",
        "id": "cape",
        "code": order.pop("medicationCodeableConcept"),
    }
    order["medicationReference"] = {"reference": "Medication/cape"}
    body["prefetch"]["medications"]["entry"] = [{"resource": medication}]
    response = client.post(SIGN, json=body)
    assert "dpyd-intermediate-as1" in [
        c["source"]["topic"]["code"] for c in response.json()["cards"]
    ]
    del body["prefetch"]["pgx"]
    body["prefetch"]["medications"] = REFUSED
    card = _blocked(client, body)
    assert "  - No DPYD result on file\n" in card["detail"]
    assert card["indicator"] == "warning"
    assert order["id"] in card["summary"] + card["detail"]


def test_a_server_message_that_is_not_unicode_keeps_the_card(rule_set):
    """A lone surrogate in what a server said would make the engine refuse the fact."""
    request = parse_request(request_fixture("dpyd-c1905-het-capecitabine.order-sign"))
    service = rule_set.service_for(request.hook)
    context = read_context(service, request)
    planned = prefetch.plan(request.prefetch, context, service.keys, TODAY)
    record = prefetch.record(context, planned, {})
    found = admit(extract(record, rule_set.knowledge, TODAY))
    rules = rule_set.of_hook(request.hook)
    (fact,) = not_run(rules, {"pgx": "prefetch 'pgx': said \ud800"}, found, record)
    assert admit([fact]) == [fact]
    assert "said ?" in fact.queries
