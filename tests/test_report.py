"""``cds-service feedback report`` and ``store purge``, over cards served and answered by HTTP."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cds_service.cli import main
from cds_service.store.db import connect, feedback, served_card
from cds_service.store.report import wilson
from tests.conftest import Client, client_for, request_fixture

SELECT, SIGN = (f"dpyd-c1905-het-capecitabine.order-{hook}" for hook in ("select", "sign"))
RULE = "dpyd-intermediate-as1"


def answer(client: Client, card: dict, outcome: str) -> None:
    item: dict = {"card": card["uuid"], "outcome": outcome}
    if outcome == "overridden":
        item["overrideReason"] = {"reason": card["overrideReasons"][2]}
    else:
        item["acceptedSuggestions"] = [{"id": card["suggestions"][0]["uuid"]}]
    item["outcomeTimestamp"] = datetime.now(UTC).isoformat()
    sent = client.post("/cds-services/oncology-order-sign/feedback", json={"feedback": [item]})
    assert sent.status_code == 200, sent.text


@pytest.fixture
def history(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """One patient's DPYD card shown at select and sign, then overridden; another patient's
    accepted; one feedback item on a card never served. The CLI is pointed at the store."""
    with client_for(database_url=store_url, data_dir=tmp_path) as client:
        assert client.app.state.store.recorder.ready.wait(30)
        client.post("/cds-services/oncology-order-select", json=request_fixture(SELECT))
        [card] = client.post(
            "/cds-services/oncology-order-sign", json=request_fixture(SIGN)
        ).json()["cards"]
        answer(client, card, "overridden")
        other = json.loads(json.dumps(request_fixture(SIGN)).replace("c1905-het", "c1905-b"))
        [second] = client.post("/cds-services/oncology-order-sign", json=other).json()["cards"]
        answer(client, second, "accepted")
        answer(client, {**card, "uuid": "never-served"}, "overridden")
    monkeypatch.setenv("CDS_DATABASE_URL", store_url)
    return store_url


def report(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["feedback", "report", *args]) == 0
    return capsys.readouterr().out


def test_an_overridden_card_is_in_the_report_with_its_reason(
    history: str, capsys: pytest.CaptureFixture[str]
) -> None:
    [row] = list(csv.DictReader(io.StringIO(report(capsys, "--format", "csv"))))
    assert (row["rule"], row["shown"], row["cards"], row["patients"]) == (RULE, "3", "2", "2")
    assert (row["accepted"], row["overridden"], row["ignored"]) == ("1", "1", "0")
    assert (row["override_rate"], row["flagged"]) == ("0.5", "False")
    assert row["override_reasons"] == "Patient tolerated this dose before (tolerated-before): 1"
    assert row["suggestions_taken"].startswith("Start capecitabine at")
    text = report(capsys)
    assert "override rate 50% (95 % CI 9%-91%)" in text
    assert "Feedback on cards this service never served: 1 (oncology-order-sign)" in text


def test_the_report_filters_by_time_and_rule_and_flags_by_threshold(
    history: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert json.loads(report(capsys, "--format", "json", "--since", tomorrow))["rules"] == []
    assert json.loads(report(capsys, "--format", "json", "--rule", "dpyd-poor"))["rules"] == []
    [rule] = json.loads(report(capsys, "--format", "json", "--flag-above", "0.5"))["rules"]
    assert rule["flagged"] is True
    assert rule["override_reasons"] == {"Patient tolerated this dose before (tolerated-before)": 1}


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_html_report_is_one_file_with_a_chart_and_nothing_fetched(
    history: str, capsys: pytest.CaptureFixture[str]
) -> None:
    html = report(capsys, "--format", "html")
    assert html.count("<svg") == 1
    assert RULE in html
    assert "Patient tolerated this dose before" in html
    for fetches in ("<script", "src=", "href=", "@import", "url("):
        assert fetches not in html


def test_wilson_interval_matches_published_values() -> None:
    low, high = wilson(5, 10) or (0, 0)
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
    low, high = wilson(0, 10) or (0, 0)
    assert (low, round(high, 4)) == (0.0, 0.2775)
    assert wilson(0, 0) is None


def test_purge_removes_only_what_is_older_than_the_retention(
    history: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = connect(history)
    old = datetime.now(UTC) - timedelta(days=40)
    with engine.begin() as connection:
        connection.execute(
            served_card.update().where(served_card.c.hook == "order-select"), {"served_at": old}
        )
    monkeypatch.setenv("CDS_STORE_RETENTION_DAYS", "30")
    assert main(["store", "purge"]) == 0
    assert (
        "deleted 1 served cards and 0 feedback items older than 30 days" in capsys.readouterr().out
    )
    with engine.connect() as connection:
        assert len(connection.execute(served_card.select()).all()) == 2
        assert len(connection.execute(feedback.select()).all()) == 3
    engine.dispose()


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_card_answered_twice_counts_by_its_latest_answer(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    with client_for(database_url=store_url, data_dir=tmp_path) as client:
        assert client.app.state.store.recorder.ready.wait(30)
        answered = client.post("/cds-services/oncology-order-sign", json=request_fixture(SIGN))
        [card] = answered.json()["cards"]
        answer(client, card, "accepted")
        answer(client, card, "overridden")  # the prescriber changed their mind: it counts
    monkeypatch.setenv("CDS_DATABASE_URL", store_url)
    [row] = json.loads(report(capsys, "--format", "json"))["rules"]
    assert (row["accepted"], row["overridden"], row["ignored"], row["cards"]) == (0, 1, 0, 1)
    assert sum(row["override_reasons"].values()) == 1
