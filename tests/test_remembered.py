"""The facts of a record are remembered by its exact content: never another patient's facts, never
a stale result after a resource changes by one character (issue 17)."""

from __future__ import annotations

import gc
import json
import pickle
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cds_service import facts, service
from cds_service.cards.ids import PROCESS_IDS
from cds_service.prefetch import keys
from cds_service.prefetch.record import PatientRecord
from cds_service.ruleset.compiled import RuleSet
from cds_service.ruleset.remembered import Remembered
from tests.conftest import FIXTURES, TODAY, Client, request_fixture

NAME = "dpyd-c1905-het-capecitabine.order-sign"
PATIENT = "pt-dpyd-c1905-het"
UTC = ZoneInfo("UTC")


def reading_of(body: dict[str, Any], rule_set: RuleSet, zone: ZoneInfo = UTC) -> keys.Reading:
    request = service.parse_request(body)
    chosen = rule_set.service_for(request.hook)
    assert chosen is not None
    context = service.read_context(chosen, request)
    return keys.Reading(context, keys.plan(request.prefetch, context, chosen.keys, TODAY), {}, zone)


def record_of(body: dict[str, Any], rule_set: RuleSet, zone: ZoneInfo = UTC) -> PatientRecord:
    return reading_of(body, rule_set, zone).record()


class Counted:
    """A cache with a count of the records it had to read."""

    def __init__(self, rule_set: RuleSet):
        self.rule_set, self.remembered, self.read = rule_set, Remembered(), 0

    def facts(self, body: dict[str, Any], zone: ZoneInfo = UTC, today=TODAY) -> list[facts.Fact]:
        record = record_of(body, self.rule_set, zone)

        def extract() -> list[facts.Fact]:
            self.read += 1
            return facts.extract(record, self.rule_set.knowledge, today)

        return self.remembered.facts(record, today, extract)


def genotypes(found: list[facts.Fact]) -> list[facts.Genotype]:
    return [f for f in found if isinstance(f, facts.Genotype)]


def test_the_same_record_sent_again_is_not_read_again(rule_set: RuleSet):
    cache = Counted(rule_set)
    first = cache.facts(request_fixture(NAME))
    again = cache.facts(request_fixture(NAME))
    assert cache.read == 1
    assert again == first
    assert again is not first
    assert [g.gene for g in genotypes(first)] == ["DPYD"]


def test_another_patients_record_with_the_same_resources_gets_its_own_facts(rule_set: RuleSet):
    cache = Counted(rule_set)
    cache.facts(request_fixture(NAME))
    other = json.loads(json.dumps(request_fixture(NAME)).replace(PATIENT, "pt-dpyd-c1905-hex"))
    found = cache.facts(other)
    assert cache.read == 2
    person = next(f for f in found if isinstance(f, facts.PatientFact))
    assert person.patient_id == "pt-dpyd-c1905-hex"
    cited = {source for fact in found for source in fact.sources}
    assert "Patient/pt-dpyd-c1905-hex" in cited
    assert f"Patient/{PATIENT}" not in cited


def _subject(body: dict[str, Any]) -> dict[str, Any]:
    entry = body["prefetch"]["pgx"]["entry"][0]["resource"]
    assert entry["subject"]["reference"] == f"Patient/{PATIENT}"
    return entry["subject"]


def test_a_genotype_changed_by_one_character_is_read_afresh(rule_set: RuleSet):
    cache = Counted(rule_set)
    assert genotypes(cache.facts(request_fixture(NAME)))
    changed = request_fixture(NAME)
    _subject(changed)["reference"] = f"Patient/{PATIENT[:-1]}x"  # now another patient's result
    found = cache.facts(changed)
    assert cache.read == 2
    assert not genotypes(found)
    assert any(isinstance(f, facts.Unreadable) and f.gene == "DPYD" for f in found)


def test_a_record_with_its_members_in_another_order_is_read_afresh_and_alike(rule_set: RuleSet):
    """The digest takes members in the order sent (sorting them was a fifth of its cost): the
    same content in another order is a miss, read again, and gives the same facts."""
    cache = Counted(rule_set)
    first = cache.facts(request_fixture(NAME))
    reordered = request_fixture(NAME)
    for entry in reordered["prefetch"]["pgx"]["entry"]:
        entry["resource"] = dict(reversed(entry["resource"].items()))
    again = cache.facts(reordered)
    assert cache.read == 2
    assert again == first
    assert genotypes(again)


def test_the_day_and_the_zone_are_part_of_what_is_remembered(rule_set: RuleSet):
    cache = Counted(rule_set)
    cache.facts(request_fixture(NAME))
    cache.facts(request_fixture(NAME), zone=ZoneInfo("America/Chicago"))
    cache.facts(request_fixture(NAME), today=TODAY.replace(year=TODAY.year + 1))
    assert cache.read == 3


def test_the_cache_is_bounded(rule_set: RuleSet):
    cache = Counted(rule_set)
    cache.remembered = Remembered(capacity=2)
    for suffix in "abc":
        body = json.loads(json.dumps(request_fixture(NAME)).replace(PATIENT, PATIENT + suffix))
        cache.facts(body)
    assert len(cache.remembered) == 2


def test_a_record_that_cannot_be_digested_is_read_every_time(rule_set: RuleSet):
    record = PatientRecord(PATIENT)  # built without its content digest
    calls = []
    remembered = Remembered()
    for _ in range(2):
        remembered.facts(record, TODAY, lambda: calls.append(1) or [])
    assert len(calls) == 2
    assert len(remembered) == 0


def dpyd_summaries(client: Client, body: dict[str, Any]) -> list[str]:
    response = client.post("/cds-services/oncology-order-sign", json=body)
    assert response.status_code == 200
    return [card["summary"] for card in response.json()["cards"] if "DPYD" in card["summary"]]


def test_an_answer_follows_a_one_character_change_between_calls(client: Client):
    """End to end: the app answers the changed record, not the one it remembers."""
    before = dpyd_summaries(client, request_fixture(NAME))
    changed = request_fixture(NAME)
    _subject(changed)["reference"] = f"Patient/{PATIENT[:-1]}x"
    after = dpyd_summaries(client, changed)
    assert before == dpyd_summaries(client, request_fixture(NAME))
    assert before == [
        "DPYD intermediate metabolizer (AS 1): start capecitabine at 500 mg/m2 twice daily (50%)"
    ]
    assert any("obs-geno-dpyd-c1905-het could not be read" in summary for summary in after)


class Checks:
    """Cards remembered by a :class:`Remembered`, with a count of the checks it had to run."""

    def __init__(self, rule_set: RuleSet):
        self.rule_set, self.remembered, self.ran = rule_set, Remembered(), 0

    def cards(self, body: dict[str, Any], **given: Any) -> list[Any]:
        inputs = {"today": TODAY, "hook": "order-sign", "not_run": {}, "uuid_key": "a"} | given
        reading = reading_of(body, self.rule_set)

        def check() -> list[Any]:
            self.ran += 1
            return service.check(
                inputs["hook"],
                reading,
                self.rule_set,
                inputs["today"],
                inputs["not_run"],
                set(),
                PROCESS_IDS,
            )

        return self.remembered.cards(
            reading.content,
            inputs["today"],
            inputs["hook"],
            inputs["not_run"],
            inputs["uuid_key"],
            check,
        )


def test_the_cards_of_a_record_checked_again_are_remembered(rule_set: RuleSet):
    checks = Checks(rule_set)
    first = checks.cards(request_fixture(NAME))
    again = checks.cards(request_fixture(NAME))
    assert checks.ran == 1
    assert again == first
    assert [card.source.topic.code for card in again] == ["dpyd-intermediate-as1"]


@pytest.mark.parametrize(
    "given",
    [
        {"hook": "order-select"},
        {"today": TODAY.replace(year=TODAY.year + 1)},
        {"not_run": {"medications": "the FHIR server did not answer"}},
        {"uuid_key": "b"},  # another deployment's card uuids
    ],
)
def test_cards_are_checked_afresh_when_anything_they_depend_on_differs(
    rule_set: RuleSet, given: dict[str, Any]
):
    checks = Checks(rule_set)
    checks.cards(request_fixture(NAME))
    checks.cards(request_fixture(NAME), **given)
    assert checks.ran == 2


def test_another_patients_record_gets_its_own_cards(rule_set: RuleSet):
    checks = Checks(rule_set)
    (mine,) = checks.cards(request_fixture(NAME))
    other = json.loads(json.dumps(request_fixture(NAME)).replace(PATIENT, "pt-dpyd-c1905-hex"))
    (theirs,) = checks.cards(other)
    assert checks.ran == 2
    assert theirs.uuid != mine.uuid


def test_what_is_kept_is_not_walked_by_the_garbage_collector(rule_set: RuleSet):
    """Kept as objects, the models, facts and cards of a few thousand calls were 200,000 objects
    that each full collection walked: 170-220 ms in the middle of a call."""
    checks = Checks(rule_set)
    bodies = [
        json.loads(json.dumps(request_fixture(NAME)).replace(PATIENT, f"{PATIENT}-{n}"))
        for n in range(60)
    ]
    checks.cards(bodies[0])
    gc.collect()
    before = len(gc.get_objects())
    for body in bodies[1:]:
        checks.cards(body)
    gc.collect()
    assert checks.ran == 60
    assert len(gc.get_objects()) - before < 1_000  # one kept call alone is over 400 objects


def test_every_fact_of_the_fixtures_is_remembered_as_it_was_read(rule_set: RuleSet):
    """Facts are kept pickled (``kept.py``) by their own ``__reduce__``: each must come back
    of its type, with every field, and tell the engine the same."""
    kinds: set[type[facts.Fact]] = set()
    for path in sorted((FIXTURES / "requests").glob("*.json")):
        found = facts_read(json.loads(path.read_text(encoding="utf-8")), rule_set)
        kept = pickle.loads(pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL))
        assert [type(fact) for fact in kept] == [type(fact) for fact in found], path.name
        assert kept == found, path.name
        assert [f.engine_view() for f in kept] == [f.engine_view() for f in found], path.name
        kinds |= {type(fact) for fact in found}
    assert len(kinds) >= 23  # of the 25 kinds of fact


def facts_read(body: dict[str, Any], rule_set: RuleSet) -> list[facts.Fact]:
    try:
        return facts.extract(record_of(body, rule_set), rule_set.knowledge, TODAY)
    except facts.PartlyRead as read:
        return read.found
