"""A fault of the service's own on a record is a card, never a 500 or no cards.

An EHR shows a failed call as no cards at all, which a clinician reads as an all-clear. So when
a reader of the record, or a card's rendering, raises (a defect of the service, no request can
be blamed), the call is answered with one warning card: no check is known to have run, how many
there are, and the reference that finds the error in the service log. The answer is not
remembered: the next call checks the record afresh.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cds_service import service
from cds_service.facts import pgx
from cds_service.prefetch import keys
from tests import mutations
from tests.conftest import Client, client_for, request_fixture
from tests.test_card_text import problems
from tests.test_observability import captured

SIGN = "/cds-services/oncology-order-sign"
VIEW = "/cds-services/oncology-patient-view"
ORDER = "dpyd-2a-13-capecitabine.order-sign"


@pytest.fixture
def fresh() -> Iterator[Client]:
    """A service of its own: no record of another test is remembered in it."""
    with client_for(engine_processes=0) as client:
        yield client


def _failing(*_: Any, **__: Any) -> Any:
    raise KeyError("a value read from the record")


def _cards(client: Client, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json()["cards"]


def test_a_failing_reader_answers_one_warning_card_that_counts_every_check(fresh, monkeypatch):
    monkeypatch.setattr(pgx, "pharmacogenomics", _failing)
    body = request_fixture(ORDER)
    with captured("text") as out:
        response = fresh.post(SIGN, json=body)
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]  # no card of the record: none of its checks ran
    reference = response.headers["X-Request-ID"]
    assert card["indicator"] == "warning"
    assert mutations.faulted([card])  # what the fuzzers count as a defect
    assert card["summary"] == (
        f"No check could be completed: the service failed on this record (reference {reference})"
    )
    assert problems(card) == []
    assert "**None of the 164 checks of this service could be completed**" in card["detail"]
    assert "MedicationRequest/medrx-draft-capecitabine-2a-13" in card["detail"]  # the evidence
    assert f"checking the record failed {reference}" in out.getvalue()
    assert "KeyError" in out.getvalue()
    assert "a value read from the record" not in out.getvalue()  # the type, never the message


def test_the_fault_is_not_remembered(fresh, monkeypatch):
    body = request_fixture(ORDER)
    with monkeypatch.context() as patched:
        patched.setattr(pgx, "pharmacogenomics", _failing)
        failed = _cards(fresh, SIGN, body)
    read = _cards(fresh, SIGN, body)
    with client_for(engine_processes=0) as other:
        expected = _cards(other, SIGN, body)
    assert [c["source"]["topic"]["code"] for c in failed] == [mutations.FAULT]
    assert read == expected
    assert any("DPYD" in c["summary"] for c in read)


def test_at_patient_view_it_is_a_warning_too(fresh, monkeypatch):
    """Nothing was checked, orders or not: not the information of a few checks not run."""
    monkeypatch.setattr(keys.Reading, "record", _failing)  # the record itself is not built
    (card,) = _cards(fresh, VIEW, request_fixture("braf-v600e-colorectal.patient-view"))
    assert card["indicator"] == "warning"
    assert card["source"]["topic"]["code"] == mutations.FAULT


def test_a_card_that_cannot_be_rendered_is_the_same_fault(fresh, monkeypatch):
    """The engine fired, but a card could not be made: none is known to be complete."""
    rendered = service.render

    def failing(firing, *args):
        if firing.rule.id != mutations.FAULT:
            raise ValueError("a value read from the record")
        return rendered(firing, *args)

    monkeypatch.setattr(service, "render", failing)
    (card,) = _cards(fresh, SIGN, request_fixture(ORDER))
    assert card["source"]["topic"]["code"] == mutations.FAULT


def test_a_clients_mistake_found_while_checking_is_still_the_clients(fresh, monkeypatch):
    """Only the service's own faults become the card: a record too large is still a 413."""
    monkeypatch.setattr("cds_service.service.MAX_FACTS", 3)
    response = fresh.post(SIGN, json=request_fixture(ORDER))
    assert response.status_code == 413, response.text
