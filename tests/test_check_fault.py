"""A fault of the service's own on a record loses only what depends on it, and says so.

An EHR shows a failed call as no cards at all, which a clinician reads as an all-clear. So when
a reader of the record raises (a defect of the service, no request can be blamed), the rules
that test what it reads do not run, a warning card lists them with the reference that finds
the error in the service log, and every other card is answered as usual. A reader handed what
a failed one would have given, and using it, is lost too (``facts/steps.py``). A fault outside
the readers (building the record, rendering a card) loses every check, and the card says so.
The answer is not remembered: the next call checks the record afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cds_service import facts, service
from cds_service.facts import disease, medications, performed, pgx, supportive
from cds_service.facts.steps import Lost, LostInput, Steps
from cds_service.ruleset.compiled import RuleSet
from tests import mutations
from tests.conftest import TODAY, Client, client_for, request_fixture
from tests.test_card_text import problems
from tests.test_fuzz import rule_facts
from tests.test_observability import captured
from tests.test_remembered import record_of

SIGN = "/cds-services/oncology-order-sign"
VIEW = "/cds-services/oncology-patient-view"
ORDER = "dpyd-2a-13-capecitabine.order-sign"
BREAST = "mcode-jenny-m-doxorubicin.order-sign"


@pytest.fixture
def fresh() -> Iterator[Client]:
    """A service of its own: no record of another test is remembered in it."""
    with client_for(engine_processes=0) as client:
        yield client


@pytest.fixture(scope="module")
def sound() -> Iterator[Client]:
    """A service whose readers are left alone: the answers as they should be."""
    with client_for(engine_processes=0) as client:
        yield client


def _failing(*_: Any, **__: Any) -> Any:
    raise KeyError("a value read from the record")


def _cards(client: Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    path = SIGN if body["hook"] == "order-sign" else VIEW
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json()["cards"]


def _topics(cards: list[dict[str, Any]]) -> list[str]:
    return [card["source"]["topic"]["code"] for card in cards]


def _lost_kinds(rule_set: RuleSet, body: dict[str, Any]) -> frozenset[str]:
    with pytest.raises(facts.PartlyRead) as read:
        facts.extract(record_of(body, rule_set), rule_set.knowledge, TODAY)
    return read.value.kinds


def test_a_failing_reader_loses_its_checks_and_only_those(fresh, sound, rule_set, monkeypatch):
    before = _cards(sound, request_fixture(BREAST))
    monkeypatch.setattr(pgx, "pharmacogenomics", _failing)
    with captured("text") as out:
        response = fresh.post(SIGN, json=request_fixture(BREAST))
    assert response.status_code == 200, response.text
    after = response.json()["cards"]
    reference = response.headers["X-Request-ID"]
    (fault,) = [card for card in after if mutations.faulted([card])]
    assert fault["indicator"] == "warning"
    assert fault["summary"].endswith(f"a fault of the service (reference {reference})")
    assert problems(fault) == []
    assert "DPYD" in fault["detail"]  # the DPYD checks are listed, by their titles
    lost = _lost_kinds(rule_set, request_fixture(BREAST))
    kept = [c for c in before if not rule_facts(rule_set)[c["source"]["topic"]["code"]] & lost]
    assert kept, "the fixture has cards that do not depend on pharmacogenomics"
    assert [c for c in after if not mutations.faulted([c])] == kept
    assert f"checking the record failed {reference} in pharmacogenomics" in out.getvalue()
    assert "KeyError" in out.getvalue()
    assert "a value read from the record" not in out.getvalue()  # the type, never the message


@pytest.mark.parametrize(
    "reader",
    [
        (pgx, "pharmacogenomics"),
        (disease, "findings"),
        (medications, "active_medications"),
        (performed, "procedures"),
        (supportive, "care"),
    ],
    ids=lambda reader: reader[1],
)
@pytest.mark.parametrize(
    "name",
    [
        ORDER,
        BREAST,
        "mcode-jenny-m.patient-view",
        "cyp2d6-paroxetine-on-tamoxifen.order-sign",
    ],
)
def test_what_a_failed_reader_does_not_reach_is_answered_as_usual(
    fresh: Client,
    sound: Client,
    rule_set: RuleSet,
    monkeypatch: pytest.MonkeyPatch,
    reader: tuple[Any, str],
    name: str,
):
    """Every card of a rule testing no lost fact type comes back; none of a rule testing one,
    and the fault card lists exactly those that could have been missed."""
    before = _cards(sound, request_fixture(name))
    monkeypatch.setattr(*reader, _failing)
    lost = _lost_kinds(rule_set, request_fixture(name))
    after = _cards(fresh, request_fixture(name))
    tests = rule_facts(rule_set)
    assert [c for c in after if not mutations.faulted([c])] == [
        c for c in before if not tests[c["source"]["topic"]["code"]] & lost
    ]
    (fault,) = [c for c in after if mutations.faulted([c])]
    said = fault["detail"].partition("**Evidence**")[0]
    listed = {line[4:] for line in said.splitlines() if line.startswith("  - ")}
    hook = request_fixture(name)["hook"]
    assert listed == {
        r.title for r in rule_set.of_hook(hook) if {c["fact"] for c in r.when.values()} & lost
    }


def test_a_reader_that_uses_what_a_failed_one_gave_is_lost_too(rule_set, monkeypatch):
    """The findings feed the carboplatin and anthracycline doses: those are lost with them.
    The pharmacogenomics reader is not: on this record it never needs the inhibitors, which
    are lost with the draft orders' courses."""
    monkeypatch.setattr(disease, "findings", _failing)
    lost = _lost_kinds(rule_set, request_fixture(BREAST))
    assert {"finding", "cumulative_dose"} <= lost
    assert "pgx_genotype" not in lost


def test_the_fault_is_not_remembered(fresh, monkeypatch):
    body = request_fixture(ORDER)
    with monkeypatch.context() as patched:
        patched.setattr(pgx, "pharmacogenomics", _failing)
        failed = _cards(fresh, body)
    read = _cards(fresh, body)
    with client_for(engine_processes=0) as other:
        expected = _cards(other, body)
    assert mutations.FAULT in _topics(failed)
    assert read == expected
    assert any("DPYD" in c["summary"] for c in read)


def test_a_record_that_cannot_be_built_loses_every_check(fresh, rule_set, monkeypatch):
    """Nothing was checked, orders or not: a warning even at patient-view."""
    from cds_service.prefetch import keys

    monkeypatch.setattr(keys.Reading, "record", _failing)
    body = request_fixture("braf-v600e-colorectal.patient-view")
    (card,) = _cards(fresh, body)
    assert card["indicator"] == "warning"
    assert _topics([card]) == [mutations.FAULT]
    kinds = [{c["fact"] for c in r.when.values()} for r in rule_set.of_hook("patient-view")]
    checks = sum(1 for tested in kinds if tested != {"checks_not_run"})  # of the record
    assert card["summary"].startswith(f"{checks} check(s) not completed")
    assert f"none of its {checks} checks was completed" in card["detail"]


def test_a_card_that_cannot_be_rendered_loses_every_check(fresh, monkeypatch):
    """The engine fired, but a card could not be made: none is known to be complete."""
    rendered = service.render

    def failing(firing: Any, *args: Any) -> Any:
        if firing.rule.id != mutations.FAULT:
            raise ValueError("a value read from the record")
        return rendered(firing, *args)

    monkeypatch.setattr(service, "render", failing)
    assert _topics(_cards(fresh, request_fixture(ORDER))) == [mutations.FAULT]


def test_a_clients_mistake_found_while_checking_is_still_the_clients(fresh, monkeypatch):
    """Only the service's own faults become the card: a record too large is still a 413."""
    monkeypatch.setattr("cds_service.service.MAX_FACTS", 3)
    response = fresh.post(SIGN, json=request_fixture(ORDER))
    assert response.status_code == 413, response.text


USES: list[Callable[[Any], Any]] = [
    lambda v: list(v),
    lambda v: len(v),
    lambda v: bool(v),
    lambda v: v["x"],
    lambda v: v.attribute,
    lambda v: "x" in v,
    lambda v: v == 1,
    lambda v: v < 1,
    lambda v: hash(v),
    lambda v: f"{v}",
    lambda v: str(v),
    lambda v: v + 1,
    lambda v: 1 + v,
    lambda v: v | {1},
    lambda v: v(),
    lambda v: [*v],
]


def _used(use: Callable[[Any], Any]) -> None:
    try:
        use(Lost("findings"))
    except Exception:  # a reader's own handler for bad data
        pytest.fail("a reader could take the lost value for bad data and carry on")


@pytest.mark.parametrize("use", USES)
def test_any_use_of_a_lost_value_raises_what_no_reader_catches(use: Callable[[Any], Any]):
    with pytest.raises(LostInput):
        _used(use)


def test_a_step_yielding_an_undeclared_fact_type_is_lost():
    """A fact of a type the step does not declare would escape the rules its loss stops."""
    steps = Steps()
    made = steps.facts(
        "cancers",
        (facts.Cancer,),
        lambda: [
            facts.Unreadable(
                resource="Condition/c", resource_type="Condition", reason="x", role="record"
            )
        ],
    )
    assert isinstance(made, Lost)
    assert steps.lost == {"cancers": frozenset({"cancer"})}
    assert [name for name, _ in steps.errors] == ["cancers"]
