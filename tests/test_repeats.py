"""Override-aware repeats, through the real feedback endpoint with a real store.

The prescriber overrides the DPYD card at order-select; at order-sign the rule's
``after_override`` decides: hidden or shown as info for the same patient and evidence, shown as
before for another patient, changed evidence, or once the window is over.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cds_service.cli import main
from tests.conftest import DPYD, Client, client_for, copy_rules, replace_in, request_fixture

SELECT, SIGN = (f"dpyd-c1905-het-capecitabine.order-{hook}" for hook in ("select", "sign"))
RULE = "dpyd-intermediate-as1"


def rules_with(tmp_path: Path, setting: str, rule: str = RULE, indicator: str = "warning") -> Path:
    """A copy of the rules where ``rule`` says ``after_override: {setting}``."""
    rules = copy_rules(tmp_path)
    start = (rules / DPYD).read_text(encoding="utf-8").index(f"  - id: {rule}\n")
    text = (rules / DPYD).read_text(encoding="utf-8")
    at = text.index(f"indicator: {indicator}", start)
    text = text[:at] + f"after_override: {setting}\n      " + text[at:]
    (rules / DPYD).write_text(text, encoding="utf-8")
    return rules


@pytest.fixture
def hiding(tmp_path: Path, store_url: str) -> Iterator[Client]:
    rules = rules_with(tmp_path, "{repeat: hide, within_hours: 24}")
    with client_for(rules_dir=rules, database_url=store_url, data_dir=tmp_path) as client:
        assert client.app.state.store.recorder.ready.wait(30)
        yield client


def cards(client: Client, request: dict[str, Any], service: str) -> list[dict[str, Any]]:
    answered = client.post(f"/cds-services/{service}", json=request)
    assert answered.status_code == 200, answered.text
    return answered.json()["cards"]


def override(client: Client, card: dict[str, Any], ago: timedelta = timedelta(0)) -> None:
    item = {
        "card": card["uuid"],
        "outcome": "overridden",
        "overrideReason": {"reason": card["overrideReasons"][0]},
        "outcomeTimestamp": (datetime.now(UTC) - ago).isoformat(),
    }
    sent = client.post("/cds-services/oncology-order-select/feedback", json={"feedback": [item]})
    assert sent.status_code == 200, sent.text


def overridden_at_select(client: Client, ago: timedelta = timedelta(0)) -> dict[str, Any]:
    [card] = cards(client, request_fixture(SELECT), "oncology-order-select")
    override(client, card, ago)
    return card


def changed(name: str, old: str, new: str) -> dict[str, Any]:
    return json.loads(json.dumps(request_fixture(name)).replace(old, new))


def test_hide_drops_the_overridden_card_at_order_sign(hiding: Client) -> None:
    overridden_at_select(hiding)
    assert cards(hiding, request_fixture(SIGN), "oncology-order-sign") == []


def test_hide_still_shows_the_card_for_another_patient(hiding: Client) -> None:
    overridden_at_select(hiding)
    other = changed(SIGN, "pt-dpyd-c1905-het", "pt-dpyd-c1905-het-other")
    [card] = cards(hiding, other, "oncology-order-sign")
    assert (card["source"]["topic"]["code"], card["indicator"]) == (RULE, "warning")


def test_hide_still_shows_the_card_for_changed_evidence(hiding: Client) -> None:
    overridden_at_select(hiding)
    other = changed(SIGN, "medrx-draft-capecitabine-c1905-het", "medrx-draft-capecitabine-2")
    [card] = cards(hiding, other, "oncology-order-sign")
    assert (card["source"]["topic"]["code"], card["indicator"]) == (RULE, "warning")


def test_hide_shows_the_card_again_once_the_window_is_over(hiding: Client) -> None:
    overridden_at_select(hiding, ago=timedelta(hours=25))
    [card] = cards(hiding, request_fixture(SIGN), "oncology-order-sign")
    assert card["indicator"] == "warning"


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_info_shows_the_overridden_card_as_information_saying_why(
    tmp_path: Path, store_url: str
) -> None:
    rules = rules_with(tmp_path, "{repeat: info, within_hours: 24}")
    with client_for(rules_dir=rules, database_url=store_url, data_dir=tmp_path) as client:
        assert client.app.state.store.recorder.ready.wait(30)
        first = overridden_at_select(client)
        [card] = cards(client, request_fixture(SIGN), "oncology-order-sign")
    assert (card["uuid"], card["indicator"]) == (first["uuid"], "info")
    assert "Overridden for this patient and this evidence" in card["detail"]
    assert "(was warning)" in card["detail"]


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_an_override_is_remembered_by_the_next_start_of_the_service(
    tmp_path: Path, store_url: str
) -> None:
    rules = rules_with(tmp_path, "{repeat: hide, within_hours: 24}")
    with client_for(rules_dir=rules, database_url=store_url, data_dir=tmp_path) as client:
        assert client.app.state.store.recorder.ready.wait(30)
        overridden_at_select(client)
    with client_for(rules_dir=rules, database_url=store_url, data_dir=tmp_path) as client:
        assert client.app.state.store.recorder.ready.wait(30)
        assert cards(client, request_fixture(SIGN), "oncology-order-sign") == []


def test_a_critical_card_set_to_hide_is_refused_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = rules_with(tmp_path, "{repeat: hide, within_hours: 24}", "dpyd-poor", "critical")
    assert main(["rules", "check", str(rules)]) == 1
    line = next(
        number
        for number, text in enumerate((rules / DPYD).read_text().splitlines(), 1)
        if "after_override" in text
    )
    assert f"dpyd-fluoropyrimidines.yaml:{line}: rule dpyd-poor:" in capsys.readouterr().out
    replace_in(rules / DPYD, "repeat: hide", "repeat: info")
    assert main(["rules", "check", str(rules)]) == 0


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_an_override_given_to_one_process_reaches_another_within_seconds(
    tmp_path: Path, store_url: str
) -> None:
    rules = rules_with(tmp_path, "{repeat: hide, within_hours: 24}")
    settings = {"rules_dir": rules, "database_url": store_url, "data_dir": tmp_path}
    with client_for(**settings) as first, client_for(**settings) as second:
        for client in (first, second):
            assert client.app.state.store.recorder.ready.wait(30)
        assert len(cards(second, request_fixture(SIGN), "oncology-order-sign")) == 1
        overridden_at_select(first)
        deadline = time.monotonic() + 15
        while cards(second, request_fixture(SIGN), "oncology-order-sign"):
            assert time.monotonic() < deadline, "the other process never saw the override"
            time.sleep(0.5)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_critical_card_overridden_is_downgraded_to_info_never_dropped(
    tmp_path: Path, store_url: str
) -> None:
    rules = rules_with(tmp_path, "{repeat: info, within_hours: 24}", "dpyd-poor", "critical")
    poor = request_fixture("dpyd-2a-13-capecitabine.order-sign")
    with client_for(rules_dir=rules, database_url=store_url, data_dir=tmp_path) as client:
        assert client.app.state.store.recorder.ready.wait(30)
        [first] = cards(client, poor, "oncology-order-sign")
        override(client, first)
        [again] = cards(client, poor, "oncology-order-sign")
    assert (first["indicator"], again["indicator"]) == ("critical", "info")
    assert again["uuid"] == first["uuid"]
    assert "(was critical)" in again["detail"]
