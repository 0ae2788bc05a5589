"""Partial answers: a prefetch key the service cannot get blocks only the checks that read it.

CDS Hooks 2.0.1 asks for a 412 when the service cannot get the data it needs. An EHR shows a 412
as nothing at all ("All clear"), so the service answers 412 only when no check can run; otherwise
it runs every check whose data it has and says, on a card, which checks could not run and why.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import FIXTURES
from tests.servers import LiveService, authorized, fhir_server, live_service

NAME = "dpyd-c1905-het-capecitabine.order-sign"
PATH = "/cds-services/oncology-order-sign"


@pytest.fixture(scope="module")
def refusing() -> Iterator[tuple[str, LiveService]]:
    """The real FHIR server holding the DPYD patient, answering 400 to MedicationStatement."""
    bundle = FIXTURES / "bundles" / "dpyd-c1905-het-capecitabine.json"
    with (
        fhir_server(refuse="MedicationStatement", bundles=[bundle]) as base,
        live_service(fhir_servers=(base,), fhir_deadline=10.0) as service,
    ):
        yield base, service


def topics(cards: list[dict[str, Any]]) -> list[str]:
    return [card["source"]["topic"]["code"] for card in cards]


def test_a_refused_search_keeps_the_dpyd_card_and_names_what_could_not_run(refusing):
    base, service = refusing
    body = authorized(NAME, base)
    del body["prefetch"]
    response = service.post(PATH, json=body)
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    assert "dpyd-intermediate-as1" in topics(cards)
    blocked = [c for c in cards if c["source"]["topic"]["code"] == "checks-not-run"]
    assert blocked, topics(cards)
    text = " ".join(c["summary"] + c["detail"] for c in blocked)
    assert "CYP2D6" in text  # tamoxifen and its inhibitors are read from MedicationStatement
    assert "MedicationStatement?patient=pt-dpyd-c1905-het" in text
    assert "HTTP 400" in text
    assert "Search on MedicationStatement is not supported" in text
    assert "DPYD" not in " ".join(c["summary"] for c in blocked)  # DPYD ran: not said to fail
