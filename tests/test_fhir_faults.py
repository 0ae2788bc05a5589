"""FHIR servers that fail: each fault has a defined answer (docs: README, FHIR fallback).

A stand-in server on 127.0.0.1 plays one fault at a time. Whatever it does, the service answers
within its deadline, never with a 500, and with a 412 OperationOutcome naming the keys it could
not get and why, except where the fault is harmless (a retried 503, a read of nothing).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.conftest import fixture_json, free_port, request_fixture
from tests.servers import (
    DROP,
    TEMPLATES,
    TOKEN,
    StandIn,
    StandInRequest,
    authorized,
    live_service,
)

NAME = "dpyd-c1905-het-capecitabine.order-sign"
PATH = "/cds-services/oncology-order-sign"
DEADLINE = 0.5


KEYS = [f"prefetch.{key}" for key in TEMPLATES]
"""Every key of the service: with no prefetch, each is one GET."""


def every_key(code: str) -> dict[str, str]:
    return dict.fromkeys(KEYS, code)


def record(kind: str, search: tuple[str | None, str | None] = (None, None)) -> Any:
    """What the fixture's prefetch holds for a query on ``kind``, as its FHIR server would send it.

    The key is the one whose template in rules/services.yaml queries that resource type with
    those ``code`` and ``status`` parameters (two keys search Observations, pgx and oncology; two
    MedicationRequests, medications and history).
    """
    sent = request_fixture(NAME)["prefetch"]
    (key,) = [
        k
        for k, t in TEMPLATES.items()
        if t.split("?")[0].split("/")[0] == kind and _search(t) == search
    ]
    return sent[key]


def _search(query: str) -> tuple[str | None, str | None]:
    parameters = dict(parse_qsl(urlsplit(query).query))
    return parameters.get("code"), parameters.get("status")


def good(request: StandInRequest) -> tuple[int, dict[str, str], bytes]:
    kind = request.path.split("/")[2].split("?")[0]
    return 200, {}, json.dumps(record(kind, _search(request.path))).encode()


def body_without_prefetch(server: str) -> dict[str, Any]:
    body = authorized(NAME, server)
    del body["prefetch"]
    return body


@pytest.fixture
def expected_cards() -> list[dict[str, Any]]:
    with live_service() as service:
        return service.post(PATH, json=request_fixture(NAME)).json()["cards"]


def answer(handler: Any, **settings: Any) -> tuple[Any, float, StandIn]:
    with (
        StandIn(handler) as server,
        live_service(fhir_servers=(server.url,), fhir_deadline=DEADLINE, **settings) as service,
    ):
        response, seconds = service.timed_post(PATH, json=body_without_prefetch(server.url))
    assert response.status_code != 500, response.text
    return response, seconds, server


def issues(response: Any) -> dict[str, str]:
    assert response.status_code == 412, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert TOKEN not in response.text
    return {issue["expression"][0]: issue["code"] for issue in outcome["issue"]}


def test_the_stand_in_answers_like_the_fixture(expected_cards):
    response, _, server = answer(good)
    assert response.json()["cards"] == expected_cards
    assert {seen["headers"]["Authorization"] for seen in server.seen} == {f"Bearer {TOKEN}"}


def test_slow_server_past_the_deadline_is_412_timeout_in_time():
    def slow(request: StandInRequest) -> tuple[int, dict[str, str], bytes]:
        time.sleep(DEADLINE * 4)
        return good(request)

    response, seconds, _ = answer(slow)
    assert issues(response) == every_key("timeout")
    assert seconds < DEADLINE * 3  # answered near the deadline, not after the server


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "transient"),
        (401, "login"),
        (403, "forbidden"),
        (429, "throttled"),
        (400, "processing"),
    ],
)
def test_error_status_is_412_with_its_cause(status: int, code: str):
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "x"}]}
    response, _, server = answer(lambda _: (status, {}, json.dumps(outcome).encode()))
    assert issues(response) == every_key(code)
    assert len(server.seen) == len(KEYS)  # not retried: the server acted on the GET


def test_malformed_json_is_412_structure():
    response, _, _ = answer(lambda _: (200, {}, b'{"resourceType": "Bundle", "entry": ['))
    assert issues(response) == every_key("structure")


@pytest.mark.parametrize(
    "bundle",
    [
        {"resourceType": "Bundle", "type": "searchset", "entry": 5},
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "link": [{"relation": "next", "url": "http://[::1"}],
        },
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": {"resourceType": "Observation", "id": "x" * 65}}],
        },
    ],
    ids=["entry-not-a-list", "next-link-not-a-url", "id-longer-than-fhir-allows"],
)
def test_a_malformed_bundle_is_412_structure(bundle: dict[str, Any]):
    def malformed(request: StandInRequest) -> tuple[int, dict[str, str], bytes]:
        if request.path.split("/")[2].startswith("Patient"):
            return good(request)
        return 200, {}, json.dumps(bundle).encode()

    response, _, _ = answer(malformed)
    assert set(issues(response).values()) == {"structure"}
    assert "x" * 65 not in response.text  # a client's would be a 400: never echoed


def test_a_non_fhir_answer_is_412_structure():
    response, _, _ = answer(lambda _: (200, {}, b'["not", "a", "resource"]'))
    assert set(issues(response).values()) == {"structure"}


def test_connection_refused_is_412_transient_after_one_retry():
    server = f"http://127.0.0.1:{free_port()}/fhir"
    with live_service(fhir_servers=(server,), fhir_deadline=DEADLINE) as service:
        response = service.post(PATH, json=body_without_prefetch(server))
    assert issues(response) == every_key("transient")
    assert "could not connect" in response.text


def test_a_503_is_retried_once(expected_cards):
    failed: set[str] = set()

    def flaky(request: StandInRequest) -> tuple[int, dict[str, str], bytes]:
        if request.path not in failed:
            failed.add(request.path)
            return 503, {}, b"{}"
        return good(request)

    response, _, server = answer(flaky)
    assert response.json()["cards"] == expected_cards
    assert len(server.seen) == 2 * len(KEYS)


def test_a_connection_closed_without_an_answer_is_retried_once(expected_cards):
    dropped: set[str] = set()

    def closing(request: StandInRequest) -> tuple[int, dict[str, str], bytes]:
        if request.path not in dropped:
            dropped.add(request.path)
            return DROP, {}, b""
        return good(request)

    response, _, server = answer(closing)
    assert response.json()["cards"] == expected_cards
    assert len(server.seen) == 2 * len(KEYS)


def test_redirect_is_not_followed_and_the_token_goes_nowhere_else():
    with StandIn(good) as elsewhere:
        response, _, _ = answer(lambda r: (302, {"Location": elsewhere.url + r.path}, b""))
        assert elsewhere.seen == []
    assert set(issues(response).values()) == {"not-supported"}


def test_cookies_are_not_kept_between_calls():
    def with_cookie(request: StandInRequest) -> tuple[int, dict[str, str], bytes]:
        status, headers, body = good(request)
        return status, {**headers, "Set-Cookie": "session=patient-a; Path=/"}, body

    with StandIn(with_cookie) as server, live_service(fhir_servers=(server.url,)) as service:
        for _ in range(2):
            assert service.post(PATH, json=body_without_prefetch(server.url)).status_code == 200
    assert all("Cookie" not in seen["headers"] for seen in server.seen)


def test_an_answer_too_large_is_412_too_costly():
    response, _, _ = answer(good, fhir_max_bytes=20)  # every answer: no check can run
    assert set(issues(response).values()) == {"too-costly"}


def test_a_patient_that_does_not_exist_is_no_data():
    def no_patient(request: StandInRequest) -> tuple[int, dict[str, str], bytes]:
        if request.path.startswith("/fhir/Patient/"):
            return 404, {}, b'{"resourceType": "OperationOutcome", "issue": []}'
        return good(request)

    response, _, _ = answer(no_patient)
    assert response.status_code == 200
    assert response.json()["cards"]


def test_a_search_answered_with_an_operation_outcome_is_412():
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "x"}]}
    response, _, _ = answer(lambda _: (200, {}, json.dumps(outcome).encode()))
    assert set(issues(response).values()) == {"processing"}


def test_a_next_link_to_another_host_is_not_followed():
    with StandIn(good) as elsewhere:

        def leading_away(request: StandInRequest) -> tuple[int, dict[str, str], bytes]:
            status, headers, body = good(request)
            page = json.loads(body)
            if page["resourceType"] == "Bundle":
                page["link"] = [{"relation": "next", "url": elsewhere.url + "/Observation?p=2"}]
            return status, headers, json.dumps(page).encode()

        response, _, _ = answer(leading_away)
        assert elsewhere.seen == []
    searches = [key for key in KEYS if key != "prefetch.patient"]  # the one read has no pages
    assert issues(response) == dict.fromkeys(searches, "security")


@pytest.fixture
def overlapping() -> Iterator[StandIn]:
    """A server that counts how many requests it holds at once, and the client ports it saw."""
    lock, state = threading.Lock(), {"now": 0}

    def handler(request: StandInRequest) -> tuple[int, dict[str, str], bytes]:
        with lock:
            state["now"] += 1
            server.most_in_flight = max(server.most_in_flight, state["now"])
        time.sleep(0.1)
        with lock:
            state["now"] -= 1
        return good(request)

    with StandIn(handler) as server:
        yield server


def test_queries_run_at_once_on_pooled_connections(overlapping: StandIn, expected_cards):
    with live_service(fhir_servers=(overlapping.url,)) as service:
        for _ in range(3):
            response = service.post(PATH, json=body_without_prefetch(overlapping.url))
            assert response.json()["cards"] == expected_cards
    assert overlapping.most_in_flight == len(KEYS)  # every key of a call in flight together
    peers = {seen["peer"] for seen in overlapping.seen}
    assert len(overlapping.seen) == 3 * len(KEYS)
    assert len(peers) == len(KEYS)  # three calls, one kept-alive connection per key


def test_fixture_stays_what_the_stand_in_serves():
    """The stand-in serves the request fixture's prefetch; the fixture Bundle holds the same."""
    bundle = fixture_json("bundles/dpyd-c1905-het-capecitabine.json")
    ids = {entry["resource"]["id"] for entry in bundle["entry"]}
    assert record("Patient")["id"] in ids
    for key in ("pgx", "oncology"):
        search = _search(TEMPLATES[key])
        assert {e["resource"]["id"] for e in record("Observation", search)["entry"]} <= ids


def test_a_missing_next_page_is_not_no_data():
    """A 404 means "no data" for a read only; a page of a search that is gone is a failure."""
    with (
        StandIn(lambda _: (404, {}, b"")) as server,
        live_service(fhir_servers=(server.url,), fhir_deadline=DEADLINE) as service,
    ):
        body = authorized(NAME, server.url)
        body["prefetch"]["pgx"]["link"] = [{"relation": "next", "url": "Observation/page-2"}]
        response = service.post(PATH, json=body)
    assert response.status_code == 200, response.text
    cards = {card["source"]["topic"]["code"]: card for card in response.json()["cards"]}
    assert "dpyd-intermediate-as1" not in cards
    assert "dpyd-test-first" not in cards
    assert "prefetch 'pgx'" in cards["checks-not-run"]["detail"]
    assert "HTTP 404" in cards["checks-not-run"]["detail"]
