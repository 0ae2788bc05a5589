"""Hot reload: an edited rule set reaches a running server without a restart, or is refused."""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from cds_service.engine.durable import EngineError
from cds_service.facts import DraftMedication, MissingResult
from cds_service.ruleset import reload as reload_module
from cds_service.ruleset.loader import RuleSetInvalid, load_rule_set, version_of
from cds_service.ruleset.reload import LiveRules
from tests.conftest import DPYD, RULES, copy_rules, replace_in, request_fixture, running_service

REQUEST = "dpyd-c2846-het-fluorouracil.order-sign"
SERVICE = "/cds-services/oncology-order-sign"


def card_summary(base: str) -> tuple[str, str]:
    response = httpx.post(base + SERVICE, json=request_fixture(REQUEST), timeout=10)
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return card["summary"], card["source"]["label"]


def health(base: str) -> dict[str, Any]:
    return httpx.get(f"{base}/health", timeout=5).json()["rules"]


def wait_for_reload(base: str, before: dict[str, Any]) -> dict[str, Any]:
    """The status once a reload newer than ``before`` has reported."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = health(base)
        if status["lastReload"] and status["lastReload"] != before["lastReload"]:
            return status
        time.sleep(0.1)
    pytest.fail("no reload was reported within 60 s")


def edit(rules: Path, old: str, new: str) -> None:
    replace_in(rules / DPYD, old, new)


AS15_DOSE = (  # the end of rule dpyd-intermediate-as1.5: "dose" appears in other rules too
    "      dose: {order: order, factor: 0.5}\n      suggestions:\n"
    '        - {action: adjust-dose, label: "Start {order.ingredient} at {dose.adjusted}", '
    "recommended: true}\n\n  - id: dpyd-intermediate-score-unknown"
)


def test_a_rule_change_reaches_the_running_server(tmp_path: Path):
    """CPIC changes activity score 1.5 from 50 % to 25-50 %, edited as rules/README.md says."""
    rules = copy_rules(tmp_path)
    with running_service(rules, CDS_RULES_RELOAD_SECONDS="0.2") as base:
        summary, label = card_summary(base)
        assert summary.endswith("1200 mg/m2 every 14 days (50%)")
        before = health(base)
        assert before["version"] in label

        edit(
            rules,
            'strength: "CPIC: Moderate (2017); 50 % per the later CPIC update"',
            'strength: "CPIC: Moderate"',
        )
        edit(rules, AS15_DOSE, AS15_DOSE.replace("factor: 0.5}", "factor: 0.5, up_to: 0.75}"))
        edit(
            rules,
            '{rule: dpyd-intermediate-as1.5, summary_contains: "1200 mg/m2"}',
            '{rule: dpyd-intermediate-as1.5, summary_contains: "1200-1800 mg/m2"}',
        )

        after = wait_for_reload(base, before)
        assert after["lastReload"]["outcome"] == "loaded", after["lastReload"]
        assert after["version"] != before["version"]
        summary, label = card_summary(base)
        assert summary.endswith("1200-1800 mg/m2 every 14 days (50-75%)")
        assert after["version"] in label


def test_a_broken_change_is_refused_and_the_old_rules_keep_serving(tmp_path: Path):
    rules = copy_rules(tmp_path)
    with running_service(rules, CDS_RULES_RELOAD_SECONDS="0.2") as base:
        before = health(base)
        edit(rules, "        activity_score: 1.5\n", "        activity_score: 1.5x\n")
        line = (rules / DPYD).read_text(encoding="utf-8").splitlines().index(
            "        activity_score: 1.5x"
        ) + 1

        refused = wait_for_reload(base, before)
        assert refused["lastReload"]["outcome"] == "rejected"
        (problem,) = refused["lastReload"]["problems"]
        assert f"dpyd-fluoropyrimidines.yaml:{line}: rule dpyd-intermediate-as1.5:" in problem
        assert refused["version"] == before["version"]
        assert card_summary(base)[0].endswith("(50%)")

        edit(rules, "        activity_score: 1.5x\n", "        activity_score: 1.5\n")
        edit(rules, 'summary_contains: "1200 mg/m2"}', 'summary_contains: "1300 mg/m2"}')
        failing = wait_for_reload(base, refused)
        assert failing["lastReload"]["outcome"] == "rejected"
        assert (
            "example 'c.2846A>T heterozygous (AS 1.5) and fluorouracil'"
            in (failing["lastReload"]["problems"][0])
        )
        assert failing["version"] == before["version"]


def test_a_check_that_runs_too_long_is_stopped(tmp_path: Path):
    rules = copy_rules(tmp_path)
    env = {"CDS_RULES_RELOAD_SECONDS": "0.2", "CDS_RULES_RELOAD_TIMEOUT": "0.05"}
    with running_service(rules, **env) as base:
        before = health(base)
        edit(rules, "title: DPYD and fluoropyrimidines", "title: DPYD and the fluoropyrimidines")
        stopped = wait_for_reload(base, before)
        assert stopped["lastReload"]["outcome"] == "timed-out"
        assert stopped["version"] == before["version"]
        assert httpx.get(f"{base}/health", timeout=5).status_code == 200


def test_a_request_in_flight_finishes_on_the_set_it_started_with():
    live = LiveRules(load_rule_set(RULES))
    facts = [
        DraftMedication(
            order="MedicationRequest/x", drug="capecitabine", ingredient="capecitabine"
        ),
        MissingResult(gene="DPYD"),
    ]
    with live.lease() as old:
        live.swap(load_rule_set(RULES))
        assert live.current is not old
        assert [rule.id for rule, _ in old.evaluate("order-sign", facts)] == ["dpyd-test-first"]
    with pytest.raises(EngineError, match="closed"):
        old.evaluate("order-sign", facts)
    assert [rule.id for rule, _ in live.current.evaluate("order-sign", facts)] == [
        "dpyd-test-first"
    ]
    live.close()


def test_a_swapped_in_rule_set_is_out_of_the_collectors_reach():
    """Full collections would otherwise walk the new set's objects in the middle of calls."""
    live = LiveRules(load_rule_set(RULES))
    new = load_rule_set(RULES)
    gc.unfreeze()
    try:
        live.swap(new)
        assert gc.get_freeze_count() > 0
        assert not any(obj is new for obj in gc.get_objects())
    finally:
        live.close()


def test_the_collector_waits_while_a_reload_builds_the_new_set_and_runs_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Its pauses would fall on the calls served meanwhile; it must never stay off."""
    rules = copy_rules(tmp_path)
    live = LiveRules(load_rule_set(rules))
    enabled_while_loading = []

    async def passed(directory: Path, _: float) -> tuple[str, str, list[str]]:
        return "passed", version_of(directory), []

    def loading(directory: Path, compile_rules: Any) -> Any:
        enabled_while_loading.append(gc.isenabled())
        if "refused-by-the-test" in (directory / DPYD).read_text(encoding="utf-8"):
            raise RuleSetInvalid([])
        return load_rule_set(directory, compile_rules)

    monkeypatch.setattr(reload_module, "_verify", passed)
    monkeypatch.setattr(reload_module, "load_rule_set", loading)
    try:
        edit(rules, "title: DPYD and fluoropyrimidines", "title: DPYD and the fluoropyrimidines")
        loaded = asyncio.run(reload_module.reload(live, rules, 60))
        assert gc.isenabled()
        edit(rules, "title: DPYD and the fluoropyrimidines", "title: refused-by-the-test")
        refused = asyncio.run(reload_module.reload(live, rules, 60))
        assert gc.isenabled()
    finally:
        live.close()
    assert (loaded.outcome, refused.outcome) == ("loaded", "superseded")
    assert enabled_while_loading == [False, False]


def test_the_watcher_survives_a_reload_that_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An unexpected error in one attempt is reported and the watcher keeps watching."""
    rules = copy_rules(tmp_path)
    live = LiveRules(load_rule_set(rules))

    async def broken(*_: Any) -> None:
        raise OSError("cannot start a process")

    monkeypatch.setattr(reload_module, "reload", broken)

    async def scenario() -> bool:
        watcher = asyncio.create_task(reload_module.watch(live, rules, 0.01, 5))
        edit(rules, "title: DPYD and fluoropyrimidines", "title: DPYD and the fluoropyrimidines")
        for _ in range(200):
            await asyncio.sleep(0.01)
            if live.last_reload is not None:
                break
        alive = not watcher.done()
        watcher.cancel()
        return alive

    assert asyncio.run(scenario())
    assert live.last_reload is not None
    assert live.last_reload.outcome == "failed"
    live.close()
