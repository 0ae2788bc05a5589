"""Card uuids are keyed: stable for one key, different under another, and naming no patient.

The store keeps patients as keyed hashes; a card uuid derived from the patient id with a public
recipe would let anyone reading the store or a log try candidate ids against it.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cds_service import service
from cds_service.cards.ids import CardIds
from cds_service.prefetch import keys
from cds_service.ruleset.compiled import RuleSet
from cds_service.store.patients import key_for
from tests.conftest import TODAY, client_for, request_fixture

KEY, OTHER = "a test key of enough length", "another key, also long enough"
SIGN = "dpyd-c1905-het-capecitabine.order-sign"
PATIENT = "pt-dpyd-c1905-het"
UTC = ZoneInfo("UTC")
PUBLIC_NAMESPACE = uuid.UUID("6f1c9a52-3f0e-4a8e-9a53-0c3f6b1d2e71")
"""The namespace card uuids were once derived in with ``uuid5``; it is in the public code."""


def answer(**settings: Any) -> dict[str, Any]:
    """The order-sign answer for the DPYD fixture from a new app (a restart) with ``settings``."""
    with client_for(**settings) as client:
        sent = client.post("/cds-services/oncology-order-sign", json=request_fixture(SIGN))
    assert sent.status_code == 200
    return sent.json()


def ids_of(response: dict[str, Any]) -> list[str]:
    return [
        id_
        for card in response["cards"]
        for id_ in [card["uuid"], *(s["uuid"] for s in card.get("suggestions") or [])]
    ]


def without_ids(response: dict[str, Any]) -> str:
    """The answer with each uuid replaced by its place: what must not depend on the key."""
    text = json.dumps(response, sort_keys=True)
    for place, id_ in enumerate(ids_of(response)):
        text = text.replace(id_, f"<uuid {place}>")
    return text


def test_the_same_key_gives_the_same_uuids_after_a_restart_with_or_without_a_store(
    tmp_path,
) -> None:
    """Replicas sharing CDS_PATIENT_HASH_KEY agree, whether or not they keep a store."""
    first = answer(patient_hash_key=KEY)
    again = answer(patient_hash_key=KEY)
    stored = answer(
        patient_hash_key=KEY,
        database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}",
        data_dir=tmp_path,
    )
    assert first["cards"]
    assert ids_of(first)[1:]
    assert ids_of(first) == ids_of(again) == ids_of(stored)


def test_another_key_changes_only_the_uuids() -> None:
    mine, theirs = answer(patient_hash_key=KEY), answer(patient_hash_key=OTHER)
    assert not set(ids_of(mine)) & set(ids_of(theirs))
    assert without_ids(mine) == without_ids(theirs)


def test_the_key_kept_in_the_data_folder_keys_the_uuids_across_restarts(tmp_path) -> None:
    settings = {"database_url": f"sqlite:///{tmp_path / 'store.sqlite3'}", "data_dir": tmp_path}
    first, again = answer(**settings), answer(**settings)
    kept = (tmp_path / "patient-hash.key").read_text(encoding="utf-8").strip()
    assert ids_of(first) == ids_of(again) == ids_of(answer(patient_hash_key=kept))


def test_without_store_or_key_uuids_hold_for_the_process_and_a_warning_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="cds_service.store"):
        first = answer()
    assert "card uuids are keyed for this process only" in caplog.text
    assert ids_of(first) == ids_of(answer())
    assert not set(ids_of(first)) & set(ids_of(answer(patient_hash_key=KEY)))


class Recording(CardIds):
    """The keyed ids, with the parts each was made from: what the public recipe would hash."""

    def __init__(self, key: bytes):
        super().__init__(key)
        self.parts: list[tuple[str, ...]] = []

    def __call__(self, *parts: str) -> str:
        self.parts.append(parts)
        return super().__call__(*parts)


def test_a_uuid_cannot_be_recomputed_from_the_patient_id_with_the_public_recipe(
    rule_set: RuleSet,
) -> None:
    ids = Recording(KEY.encode())
    request = service.parse_request(request_fixture(SIGN))
    chosen = rule_set.services["oncology-order-sign"]
    context = service.read_context(chosen, request)
    planned = keys.plan(request.prefetch, context, chosen.keys, TODAY)
    response = service.decide(chosen, context, planned, {}, {}, rule_set, TODAY, UTC, ids=ids)
    [card] = response.cards
    parts = ids.parts[0]
    assert PATIENT in parts
    assert CardIds(KEY.encode())(*parts) == card.uuid
    assert card.uuid != str(uuid.uuid5(PUBLIC_NAMESPACE, "|".join(parts)))
    assert card.uuid != CardIds(OTHER.encode())(*parts)
    made = uuid.UUID(card.uuid)
    assert (made.version, made.variant) == (8, uuid.RFC_4122)


def test_a_key_too_short_to_keep_a_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        CardIds(b"short")


def test_a_short_configured_key_names_the_setting_and_its_length(tmp_path) -> None:
    with pytest.raises(ValueError, match="CDS_PATIENT_HASH_KEY must be at least 16 bytes, got 5"):
        key_for("short", tmp_path)
