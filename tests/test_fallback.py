"""The FHIR fallback against a real FHIR server on 127.0.0.1 holding the fixture patients.

The same request must give the same cards whether the client prefetched everything, nothing or
half, sent an OperationOutcome, or sent the first page of a paged search.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from tests.servers import (
    TEMPLATES,
    TOKEN,
    FhirServers,
    LiveService,
    authorized,
    fhir_servers,
    live_service,
)
from tests.test_fixtures import EXPECTED, check, service_path


@pytest.fixture(scope="module")
def fhir() -> Iterator[FhirServers]:
    with fhir_servers() as servers:
        yield servers


@pytest.fixture(scope="module")
def service(fhir: FhirServers) -> Iterator[LiveService]:
    """The deadline is wide: the local FHIR server answers the keys one after another, which on
    a loaded machine can pass the 2 s default. The deadline itself: test_fhir_faults.py."""
    with live_service(fhir_servers=tuple(fhir.bases), fhir_deadline=10.0) as running:
        yield running


def cards(service: LiveService, name: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = service.post(service_path(name), json=body)
    assert response.status_code == 200, response.text
    return response.json()["cards"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_same_cards_with_full_half_and_no_prefetch(
    service: LiveService, fhir: FhirServers, name: str
):
    full = authorized(name, fhir.base_for(name))
    expected = cards(service, name, full)
    check(name, expected)
    for dropped in (("pgx",), ("patient",), ("patient", "pgx")):
        body = authorized(name, fhir.base_for(name))
        for key in dropped:
            del body["prefetch"][key]
        assert cards(service, name, body) == expected, f"without {dropped}"
    body = authorized(name, fhir.base_for(name))
    del body["prefetch"]
    assert cards(service, name, body) == expected, "with no prefetch member"


def test_operation_outcome_in_prefetch_is_fetched_again(service: LiveService, fhir: FhirServers):
    name = "dpyd-c1905-het-capecitabine.order-sign"
    expected = cards(service, name, authorized(name, fhir.base_for(name)))
    body = authorized(name, fhir.base_for(name))
    body["prefetch"]["pgx"] = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout", "diagnostics": "EHR search timed out"}],
    }
    assert cards(service, name, body) == expected


def first_page(fhir: str, patient: str) -> dict[str, Any]:
    """What a paging client sends: page 1 of Observation?patient=..., with its next link."""
    import httpx

    url = f"{fhir}/Observation?patient={patient}&_count=2"
    page = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).json()
    assert any(link["relation"] == "next" for link in page["link"])
    return page


def test_paged_prefetch_is_followed_to_the_last_page(service: LiveService, fhir: FhirServers):
    name = "dpyd-c1905-het-capecitabine.order-sign"
    expected = cards(service, name, authorized(name, fhir.base_for(name)))
    body = authorized(name, fhir.base_for(name))
    body["prefetch"]["pgx"] = first_page(body["fhirServer"], body["context"]["patientId"])
    codes = {
        coding.get("code")
        for entry in body["prefetch"]["pgx"].get("entry", [])
        for coding in entry["resource"]["code"].get("coding", [])
    }
    assert not codes & {"84413-4", "53040-2", "therapeutic-implication"}  # results come later
    assert cards(service, name, body) == expected


def not_run(response: Any) -> str:
    """The detail of the one "checks could not run" card, naming DPYD; no false "test first"."""
    assert response.status_code == 200, response.text
    cards = {c["source"]["topic"]["code"]: c for c in response.json()["cards"]}
    assert "dpyd-test-first" not in cards
    assert "dpyd-intermediate-as1" not in cards
    card = cards["checks-not-run"]  # a warning: the DPYD checks are about the capecitabine order
    assert "No DPYD result on file" in card["detail"]
    return card["detail"]


def test_more_pages_than_allowed_is_said_never_a_cut_result(fhir: FhirServers):
    name = "dpyd-c1905-het-capecitabine.order-sign"
    body = authorized(name, fhir.base_for(name))
    body["prefetch"]["pgx"] = first_page(body["fhirServer"], body["context"]["patientId"])
    with live_service(fhir_servers=tuple(fhir.bases), fhir_max_pages=1) as service:
        response = service.post(service_path(name), json=body)
    assert "more than 1 pages (CDS_FHIR_MAX_PAGES)" in not_run(response)


def test_wrong_token_is_412_login(service: LiveService, fhir: FhirServers):
    name = "dpyd-c1905-het-capecitabine.order-sign"
    body = authorized(name, fhir.base_for(name), token="not-the-token")
    del body["prefetch"]
    response = service.post(service_path(name), json=body)
    assert response.status_code == 412
    issues = response.json()["issue"]
    assert {i["expression"][0] for i in issues} == {f"prefetch.{key}" for key in TEMPLATES}
    assert {i["code"] for i in issues} == {"login"}
    assert "not-the-token" not in response.text


def test_token_is_never_logged_nor_kept(service: LiveService, fhir: FhirServers, caplog):
    name = "dpyd-c1905-het-capecitabine.order-sign"
    body = authorized(name, fhir.base_for(name))
    del body["prefetch"]
    with caplog.at_level(logging.DEBUG):
        assert cards(service, name, body)
        body["fhirAuthorization"]["access_token"] = TOKEN + "-rejected"
        assert service.post(service_path(name), json=body).status_code == 412
    assert "fhir fallback" in caplog.text  # the fallback did log, at every level
    assert TOKEN not in caplog.text
    client = service.app.state.fhir_client
    assert "authorization" not in {name.lower() for name in client.headers}
    assert not list(client.cookies.jar)


def test_server_outside_the_allow_list_is_refused(fhir: FhirServers):
    name = "dpyd-c1905-het-capecitabine.order-sign"
    body = authorized(name, fhir.base_for(name))
    del body["prefetch"]["pgx"]
    with live_service(fhir_servers=("http://127.0.0.1:1/fhir",)) as service:
        response = service.post(service_path(name), json=body)
    assert "CDS_FHIR_SERVERS" in not_run(response)
    del body["prefetch"]  # nothing to check the order against: no check can run
    with live_service(fhir_servers=("http://127.0.0.1:1/fhir",)) as service:
        response = service.post(service_path(name), json=body)
    assert response.status_code == 412
    assert {issue["code"] for issue in response.json()["issue"]} == {"forbidden"}
