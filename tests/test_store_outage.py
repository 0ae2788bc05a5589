"""The database lost: calls are still answered, the gap is counted and logged, feedback is 503.

PostgreSQL is cut with a TCP proxy the test closes (or never reachable: a closed port); the
machine's shared server is never stopped.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import httpx
import pytest

from cds_service.store import handle
from tests.conftest import client_for, free_port, request_fixture
from tests.tcpproxy import TcpProxy

SIGN = "dpyd-c1905-het-capecitabine.order-sign"
FEEDBACK = "/cds-services/oncology-order-sign/feedback"


def item(card: dict) -> dict:
    """The prescriber took the card's dose suggestion."""
    return {
        "card": card["uuid"],
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
        "outcomeTimestamp": datetime.now(UTC).isoformat(),
    }


def assert_refused(response: httpx.Response) -> None:
    """A 503 the EHR retries: Retry-After, and an OperationOutcome saying it was not kept."""
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "transient"
    assert "not kept" in outcome["issue"][0]["diagnostics"]


def test_an_unreachable_database_still_answers_cards_and_refuses_feedback(
    tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    with client_for(database_url=url, data_dir=tmp_path) as client:
        store = client.app.state.store
        answered = client.post("/cds-services/oncology-order-sign", json=request_fixture(SIGN))
        assert answered.status_code == 200
        [card] = answered.json()["cards"]
        assert_refused(client.post(FEEDBACK, json={"feedback": [item(card)]}))
        assert client.get("/health").json()["store"]["ready"] is False
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["store"].startswith("database: ")
    assert store.status()["lostCards"] == 1
    assert "1 served cards not recorded" in caplog.text


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_the_database_lost_mid_call_leaves_cards_answered_and_feedback_at_503(
    store_url: str, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = TcpProxy(("127.0.0.1", 5432))
    url = store_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    caplog.set_level(logging.WARNING, "cds_service.store")
    with client_for(database_url=url, data_dir=tmp_path) as client:
        store = client.app.state.store
        assert store.recorder.ready.wait(30)
        request = request_fixture(SIGN)
        [card] = client.post("/cds-services/oncology-order-sign", json=request).json()["cards"]
        assert client.post(FEEDBACK, json={"feedback": [item(card)]}).status_code == 200
        assert store.status()["recordedCards"] == 1

        proxy.cut()
        request["hookInstance"] = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"
        answered = client.post("/cds-services/oncology-order-sign", json=request)
        assert answered.status_code == 200
        assert answered.json()["cards"][0]["uuid"] == card["uuid"]
        assert_refused(client.post(FEEDBACK, json={"feedback": [item(card)]}))
    assert store.status()["lostCards"] == 1
    assert store.status()["recordedCards"] == 1
    assert "1 served cards not recorded" in caplog.text


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_a_hung_database_never_holds_a_call_and_feedback_gets_503_in_bounded_time(
    store_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handle, "FEEDBACK_SECONDS", 1.0)
    proxy = TcpProxy(("127.0.0.1", 5432))
    url = store_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    try:
        with client_for(database_url=url, data_dir=tmp_path) as client:
            assert client.app.state.store.recorder.ready.wait(30)
            request = request_fixture(SIGN)
            [card] = client.post("/cds-services/oncology-order-sign", json=request).json()["cards"]
            assert client.app.state.store.recorder.flush(10)

            proxy.freeze()
            for _ in range(3):  # the writer is stuck on the first; the calls are not
                started = time.monotonic()
                answered = client.post("/cds-services/oncology-order-sign", json=request)
                assert answered.status_code == 200
                assert time.monotonic() - started < 2.0
            started = time.monotonic()
            assert_refused(client.post(FEEDBACK, json={"feedback": [item(card)]}))
            assert time.monotonic() - started < 5.0
    finally:
        proxy.cut()  # releases the writer's hung connection
