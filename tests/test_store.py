"""The store, through the real HTTP endpoints, against SQLite and the real PostgreSQL.

A card served is kept with the patient as a keyed hash; feedback is kept before it is
acknowledged, also for a card uuid never served; migrations run from an empty database.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from cds_service.config import Settings
from cds_service.protocol.messages import Card, Coding, Source
from cds_service.store.db import connect, feedback, migrate, served_card, utcnow
from cds_service.store.patients import PatientHasher
from cds_service.store.recorder import NICE, STEP, Recorder, Served
from tests.conftest import Client, client_for, request_fixture

KEY = "a test key of enough length"
SIGN = "dpyd-c1905-het-capecitabine.order-sign"
PATIENT = "pt-dpyd-c1905-het"


@contextmanager
def stored(url: str, **settings: Any) -> Iterator[Client]:
    """A client of an app whose store is ``url``, migrated before the test goes on."""
    with client_for(database_url=url, patient_hash_key=KEY, **settings) as client:
        assert client.app.state.store.recorder.ready.wait(30)
        yield client


def rows(url: str, table: Any) -> list[Any]:
    engine = connect(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(table).order_by(table.c.id)))
    finally:
        engine.dispose()


def overridden(card: dict[str, Any], code: str = "tolerated-before") -> dict[str, Any]:
    reason = next(r for r in card["overrideReasons"] if r["code"] == code)
    return {
        "card": card["uuid"],
        "outcome": "overridden",
        "overrideReason": {"reason": reason, "userComment": "tolerated 2 cycles"},
        "outcomeTimestamp": datetime.now(UTC).isoformat(),
    }


def test_a_served_card_and_its_override_are_kept_without_the_patient_id(store_url: str) -> None:
    with stored(store_url) as client:
        answer = client.post("/cds-services/oncology-order-sign", json=request_fixture(SIGN))
        card = answer.json()["cards"][0]
        sent = client.post(
            "/cds-services/oncology-order-sign/feedback", json={"feedback": [overridden(card)]}
        )
        assert sent.status_code == 200, sent.text
        assert client.get("/health").json()["store"]["unknownCardFeedback"] == 0

    [kept] = rows(store_url, served_card)
    assert (kept.card_uuid, kept.rule_id, kept.indicator) == (
        card["uuid"],
        "dpyd-intermediate-as1",
        "warning",
    )
    assert kept.service == "oncology-order-sign"
    assert kept.suggestion_uuids == card["suggestions"][0]["uuid"]
    assert kept.hook_instance == request_fixture(SIGN)["hookInstance"]
    expected = hmac.new(KEY.encode(), PATIENT.encode(), hashlib.sha256).hexdigest()
    assert kept.patient_hash == expected
    assert PATIENT not in str(tuple(kept))
    [item] = rows(store_url, feedback)
    assert (item.card_uuid, item.outcome, item.override_code) == (
        card["uuid"],
        "overridden",
        "tolerated-before",
    )
    assert item.user_comment == "tolerated 2 cycles"
    assert item.received_at - item.outcome_at < timedelta(minutes=1)


def test_feedback_on_a_card_never_served_is_kept_and_counted(store_url: str) -> None:
    item = {
        "card": "00000000-0000-0000-0000-000000000000",
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": "s-1"}],
        "outcomeTimestamp": "2026-11-21T10:00:00+01:00",
    }
    with stored(store_url) as client:
        sent = client.post("/cds-services/oncology-order-sign/feedback", json={"feedback": [item]})
        assert sent.status_code == 200
        assert client.get("/health").json()["store"]["unknownCardFeedback"] == 1
    [kept] = rows(store_url, feedback)
    assert (kept.card_uuid, kept.accepted_suggestions) == (item["card"], "s-1")
    assert kept.outcome_at == datetime(2026, 11, 21, 9, tzinfo=UTC)


def test_migrations_run_from_empty_and_again_from_the_latest(store_url: str) -> None:
    engine = connect(store_url)
    try:
        migrate(engine)
        migrate(engine)  # already at head: nothing to do, nothing broken
        tables = set(inspect(engine).get_table_names())
        assert {"served_card", "feedback", "alembic_version"} <= tables
    finally:
        engine.dispose()


def test_migrations_keep_the_cards_of_the_previous_version(store_url: str) -> None:
    engine = connect(store_url)
    old = {
        "card_uuid": "c-1",
        "service": "oncology-order-sign",
        "hook": "order-sign",
        "rule_id": "dpyd-poor",
        "rule_set_version": "v1",
        "indicator": "critical",
        "suggestion_uuids": "s-1",
        "patient_hash": "0" * 64,
        "hook_instance": "h-1",
        "served_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    try:
        migrate(engine, "0001")  # the store as the first release left it
        with engine.begin() as connection:
            connection.execute(text_insert("served_card", old))
        migrate(engine)
        with engine.connect() as connection:
            [row] = connection.execute(select(served_card))
    finally:
        engine.dispose()
    assert (row.card_uuid, row.served_at, row.suggestion_labels) == ("c-1", old["served_at"], None)


def test_feedback_sent_again_is_kept_once(store_url: str) -> None:
    """The EHR retries after a 503 whose write landed late, or after losing the 200: the same
    item is the same event. Another answer on the same card is a new one."""
    with stored(store_url) as client:
        answer = client.post("/cds-services/oncology-order-sign", json=request_fixture(SIGN))
        card = answer.json()["cards"][0]
        item = overridden(card)
        path = "/cds-services/oncology-order-sign/feedback"
        for sent in ({"feedback": [item]}, {"feedback": [item, item]}):
            assert client.post(path, json=sent).status_code == 200
        later = {**item, "overrideReason": {**item["overrideReason"], "userComment": "now reduced"}}
        assert client.post(path, json={"feedback": [later]}).status_code == 200
    kept = rows(store_url, feedback)
    assert [row.user_comment for row in kept] == ["tolerated 2 cycles", "now reduced"]


def test_migrations_keep_feedback_once_per_event(store_url: str) -> None:
    engine = connect(store_url)
    item = {
        "card_uuid": "c-1",
        "service": "oncology-order-sign",
        "outcome": "overridden",
        "accepted_suggestions": "",
        "override_code": "tolerated-before",
        "outcome_at": datetime(2026, 1, 1, 9, tzinfo=UTC),
        "received_at": datetime(2026, 1, 1, 9, 1, tzinfo=UTC),
    }
    try:
        migrate(engine, "0002")
        with engine.begin() as connection:
            for values in (item, {**item, "received_at": item["received_at"] + timedelta(1)}):
                connection.execute(text_insert("feedback", values))
            connection.execute(text_insert("feedback", {**item, "outcome": "accepted"}))
        migrate(engine)
    finally:
        engine.dispose()
    kept = rows(store_url, feedback)
    assert [(row.outcome, row.received_at) for row in kept] == [
        ("overridden", item["received_at"]),
        ("accepted", item["received_at"]),
    ]
    assert len({row.event for row in kept}) == 2


def text_insert(table: str, values: dict[str, Any]) -> Any:
    """An insert naming only the columns an earlier version had (the table object has more)."""
    columns = ", ".join(values)
    return text(f"INSERT INTO {table} ({columns}) VALUES (:{', :'.join(values)})").bindparams(
        **{k: v.replace(tzinfo=None) if isinstance(v, datetime) else v for k, v in values.items()}
    )


def test_without_a_key_patients_are_hashed_with_one_kept_in_the_data_folder(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    for _ in range(2):  # the second app finds the key the first one made
        with client_for(database_url=url, data_dir=tmp_path) as client:
            assert client.app.state.store.recorder.ready.wait(30)
            client.post("/cds-services/oncology-order-sign", json=request_fixture(SIGN))
    key = (tmp_path / "patient-hash.key").read_text()
    assert (tmp_path / "patient-hash.key").stat().st_mode & 0o077 == 0
    hashes = {row.patient_hash for row in rows(url, served_card)}
    assert hashes == {hmac.new(key.encode(), PATIENT.encode(), hashlib.sha256).hexdigest()}


def test_values_longer_than_a_column_are_the_clients_mistake_not_a_lost_batch(
    store_url: str,
) -> None:
    request = request_fixture(SIGN)
    request["hookInstance"] = "h" * 300  # PostgreSQL would refuse the batch: it is clipped
    with stored(store_url) as client:
        [card] = client.post("/cds-services/oncology-order-sign", json=request).json()["cards"]
        item = overridden(card) | {"card": "c" * 100}
        refused = client.post(
            "/cds-services/oncology-order-sign/feedback", json={"feedback": [item]}
        )
        assert refused.status_code == 400
        assert refused.json()["issue"][0]["expression"] == ["feedback[0].card"]
        accepted = {"feedback": [overridden(card)]}
        assert (
            client.post("/cds-services/oncology-order-sign/feedback", json=accepted).status_code
            == 200
        )
        assert client.get("/health").json()["store"]["lostCards"] == 0
    [kept] = rows(store_url, served_card)
    assert kept.hook_instance == "h" * 128


def test_the_store_is_sqlite_in_the_data_folder_unless_a_url_or_off_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CDS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CDS_DATABASE_URL", raising=False)
    assert Settings.from_env().database_url == f"sqlite:///{tmp_path / 'cds-store.sqlite3'}"
    monkeypatch.setenv("CDS_DATABASE_URL", "postgresql://cds@db.example/cds")
    assert Settings.from_env().database_url == "postgresql://cds@db.example/cds"
    monkeypatch.setenv("CDS_DATABASE_URL", "off")
    assert Settings.from_env().database_url == ""


def test_only_the_cards_the_ehr_was_shown_are_kept_as_served(store_url: str) -> None:
    """An answer past the size limit keeps its most severe cards and a notice: the report must
    not count the cards left out as served (and then ignored)."""
    body = request_fixture("dpyd-c1905-het-folfiri-ugt1a1-28-28.order-sign")
    with stored(store_url) as full:
        every = full.post("/cds-services/oncology-order-sign", json=body).json()["cards"]
    with stored(store_url, max_response_bytes=3000) as client:
        shown = client.post("/cds-services/oncology-order-sign", json=body).json()["cards"]
        client.app.state.store.recorder.flush(5)
    assert len(shown) < len(every)  # the limit cut the answer
    kept = [row.card_uuid for row in rows(store_url, served_card)]
    assert set(kept[len(every) :]) == {card["uuid"] for card in shown}


@pytest.mark.skipif(sys.platform != "linux", reason="a thread has a priority of its own on Linux")
def test_the_writer_runs_below_the_priority_of_the_calls(store_url: str) -> None:
    """On a core that also answers calls, a batch being written must not hold a call up."""
    calls = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    with stored(store_url):
        [writer] = [t for t in threading.enumerate() if t.name == "cds-store-recorder"]
        assert writer.native_id is not None
        assert os.getpriority(os.PRIO_PROCESS, writer.native_id) == max(NICE, calls)
        # the writer's alone: the thread that answers calls keeps its own
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == calls


def test_a_batch_written_in_steps_is_kept_whole_or_not_at_all(store_url: str) -> None:
    """A call's cards are inserted ``STEP`` rows at a time: a row the database refuses in the
    last step takes the earlier steps back with it, and is counted lost with them."""
    engine = connect(store_url)
    migrate(engine)
    recorder = Recorder(engine, PatientHasher(KEY.encode()))
    try:
        assert recorder.ready.wait(30)
        topic = Coding(system="https://example.org/rules", code="a-rule")
        cards = [
            Card(
                uuid=f"card-{n}",
                summary="s",
                indicator="info",
                source=Source(label="l", topic=topic),
            )
            for n in range(2 * STEP + 1)
        ]
        served = Served("svc", "order-sign", "hook-1", PATIENT, None, "v1", cards, utcnow())
        refused = [*cards[:-1], cards[-1].model_copy(update={"uuid": None})]  # NOT NULL
        recorder.record(replace(served, cards=refused))
        assert recorder.flush(30)
        assert (recorder.recorded, recorder.lost) == (0, 2 * STEP + 1)
        assert rows(store_url, served_card) == []
        recorder.record(served)
        assert recorder.flush(30)
        assert recorder.recorded == 2 * STEP + 1
        assert [row.card_uuid for row in rows(store_url, served_card)] == [c.uuid for c in cards]
    finally:
        recorder.close()
        engine.dispose()
