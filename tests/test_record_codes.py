"""The record's index by code (``PatientRecord.by_code``): what each reader of results sees.

Readers used to ask every resource its code; the index asks each distinct code once. What a
reader gets must not change: every resource whose code passes, none other, in the order sent,
whatever the codes look like.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from cds_service.facts.grouped import unreported
from cds_service.prefetch.reading import AsRead
from cds_service.prefetch.record import PatientRecord
from cds_service.protocol import fhir

LOINC = "http://loinc.org"
WEIGHT = (LOINC, "29463-7")
CREATININE = (LOINC, "2160-0")


def result(ident: str, code: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": ident, "status": "final", "code": code}


def coded(system: str, code: str, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [{"system": system, "code": code}]}
    return concept | ({"text": text} if text else {})


def ids(found: list[Any]) -> list[str]:
    return [resource["id"] for resource in found]


def record_of(*resources: dict[str, Any]) -> PatientRecord:
    utc = ZoneInfo("UTC")
    return PatientRecord("pt-1", None, [AsRead(r, utc) for r in resources])


def test_every_resource_with_a_wanted_code_comes_back_in_the_order_sent():
    record = record_of(
        result("w1", coded(*WEIGHT)),
        result("c1", coded(*CREATININE)),
        {"resourceType": "Condition", "id": "cond", "code": coded(*WEIGHT)},
        result("w2", coded(*WEIGHT)),
        result("c2", coded(*CREATININE)),
    )
    assert ids(record.coded("Observation", frozenset({WEIGHT, CREATININE}))) == [
        "w1",
        "c1",
        "w2",
        "c2",
    ]
    assert ids(record.coded("Observation", frozenset({CREATININE}))) == ["c1", "c2"]
    assert ids(record.coded("Condition", frozenset({WEIGHT}))) == ["cond"]
    assert record.coded("Procedure", frozenset({WEIGHT})) == []


def test_the_test_runs_once_per_distinct_code_and_each_resource_gets_its_answer():
    asked: list[tuple[str, ...]] = []

    def named(concept: fhir.RawConcept) -> str | None:
        asked.append(concept.texts)
        return concept.texts[0] if concept.texts and concept.texts[0] != "skip" else None

    weights = [result(f"w{n}", coded(*WEIGHT, "weight")) for n in range(50)]
    record = record_of(*weights, result("s", coded(*CREATININE, "skip")))
    found = record.by_code("Observation", named)
    assert [(r["id"], answer) for r, answer in found] == [(f"w{n}", "weight") for n in range(50)]
    assert sorted(asked) == [("skip",), ("weight",)]
    record.by_code("Observation", named)  # the grouping is kept; only the test runs again
    assert len(asked) == 4


def test_a_code_sent_in_another_member_order_is_the_same_code():
    reordered = {"coding": [{"code": WEIGHT[1], "system": WEIGHT[0]}]}
    record = record_of(result("a", coded(*WEIGHT)), result("b", reordered))
    assert ids(record.coded("Observation", frozenset({WEIGHT}))) == ["a", "b"]


def test_codes_of_the_wrong_shape_match_nothing_and_break_nothing():
    record = record_of(
        result("number", 42),
        result("list", [coded(*WEIGHT)]),
        result("no-system", {"coding": [{"code": WEIGHT[1]}]}),
        result("numeric-code", {"coding": [{"system": LOINC, "code": 294637}]}),
        result("lone-coding", {"coding": {"system": WEIGHT[0], "code": WEIGHT[1]}}),
        {"resourceType": "Observation", "id": "no-code", "status": "final"},
        result("good", coded(*WEIGHT)),
    )
    # a lone coding is read as a list of one (``protocol/shape.py``), as validation reads it
    assert ids(record.coded("Observation", frozenset({WEIGHT}))) == ["lone-coding", "good"]
    assert record.by_code("Observation", lambda concept: concept.texts or None) == []


def test_a_code_json_cannot_hold_is_grouped_on_its_own():
    odd = {"resourceType": "Observation", "id": "odd", "code": {"coding": {1, 2}}}
    record = PatientRecord("pt-1", None, [odd, result("good", coded(*WEIGHT))])
    assert ids(record.coded("Observation", frozenset({WEIGHT}))) == ["good"]
    assert len(record.by_code("Observation", lambda concept: True)) == 2


def test_codes_sent_alike_are_read_alike_however_long_and_whatever_their_repair():
    """Grouped by the text of the code as sent: a repaired code is grouped by what was sent,
    and read as repaired; a code too long for the set of texts read as sent is grouped too."""
    lone = {"coding": {"system": WEIGHT[0], "code": WEIGHT[1]}}
    long = coded(*WEIGHT, "weight " * 300)
    record = record_of(
        result("lone-1", lone),
        result("long-1", long),
        result("good", coded(*WEIGHT)),
        result("lone-2", dict(lone)),
        result("long-2", dict(long)),
        result("creatinine", coded(*CREATININE)),
    )
    wanted = ["lone-1", "long-1", "good", "lone-2", "long-2"]
    assert ids(record.coded("Observation", frozenset({WEIGHT}))) == wanted
    asked: list[tuple[str, ...]] = []
    found = record.by_code("Observation", lambda concept: asked.append(concept.texts) or 1)
    assert ids([resource for resource, _ in found]) == [*wanted, "creatinine"]
    assert asked.count(()) == 3  # the lone codings, the good one, creatinine: once each
    assert len(asked) == 4  # and the long one
    for resource, _ in found:
        assert isinstance(resource["code"]["coding"], list)


def test_a_broken_code_sent_alike_is_said_of_each_resource_that_has_it():
    """The codes of one text are read once when they read as sent, and each when they do not:
    every resource with a broken code is still said to be unreadable (``facts/grouped.py``)."""
    record = record_of(
        result("a", 42), result("b", 42), result("c", coded(*WEIGHT)), result("d", coded(*WEIGHT))
    )
    assert ids(record.coded("Observation", frozenset({WEIGHT}))) == ["c", "d"]
    a, b, c, d = record.resources
    assert a.problems == b.problems == ("code: expected an object, got a number",)
    assert c.problems == d.problems == ()
    assert [fact.resource for fact in unreported(record, [])] == ["Observation/a", "Observation/b"]
    assert d["code"] == coded(*WEIGHT)  # read when asked, as sent
