"""The durable-rules defects, reproduced on the raw C API, and the engine module's immunity.

Each reproduction runs in a subprocess: a segfault or a hang must not take the test run down.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest

from cds_service.engine.durable import (
    FACT_IDS,
    MAX_CONDITIONS_PER_FACT_TYPE,
    MAX_EQUALITY_VALUES,
    SIDS,
    CompiledRules,
    EngineError,
    fnv1a32,
)

SCHEMA = {
    "draft_med": {"ingredient": str, "code": str, "dose": float},
    "pgx": {"gene": str, "phenotype": str, "score": float},
}
JOIN = {
    "drug-gene": [
        ("order", {"$and": [{"t": "draft_med"}, {"ingredient": "capecitabine"}]}),
        ("gene", {"$and": [{"t": "pgx"}, {"gene": "DPYD"}, {"phenotype": "Poor metabolizer"}]}),
    ]
}
ORDER = {"t": "draft_med", "ingredient": "capecitabine"}
POOR = {"t": "pgx", "gene": "DPYD", "phenotype": "Poor metabolizer"}


def raw(script: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``script`` against the bare C API in a fresh interpreter."""
    prelude = "import json, durable_rules_engine as dre\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def engine():
    compiled = CompiledRules(JOIN, SCHEMA)
    yield compiled
    compiled.close()


def colliding_sids() -> tuple[str, str]:
    seen: dict[int, str] = {}
    for number in range(1_000_000):
        name = f"patient-{number}"
        other = seen.setdefault(fnv1a32(name), name)
        if other != name:
            return other, name
    raise AssertionError("no collision found")


def test_defect_delete_state_crashes_when_nothing_fired():
    result = raw("""
        import uuid
        join = {"all": [{"a": {"t": "a"}}, {"b": {"$and": [{"t": "b"}, {"k": {"a": "k"}}]}}]}
        h = dre.create_ruleset("r", json.dumps({"join": join}))
        for n in range(50000):  # a new state per request; half of a join stored, nothing fires
            sid = uuid.uuid4().hex
            dre.assert_facts(h, json.dumps([{"t": "a", "k": n, "sid": sid, "id": "1"}]))
            dre.delete_state(h, sid)
        print("survived")
    """)
    assert result.returncode < 0, "stock durable-rules no longer crashes: revisit the sentinel"


def test_thousands_of_requests_with_nothing_firing(engine):
    for _ in range(5000):
        assert engine.evaluate([{"t": "draft_med", "ingredient": "amlodipine"}]) == []
    assert engine.evaluate([ORDER, POOR])  # and the rule set still works afterwards


def test_defect_colliding_sids_join_two_patients():
    first, second = colliding_sids()
    result = raw(f"""
        h = dre.create_ruleset("r", json.dumps({{"r": {{"all": [
            {{"o": {{"t": "draft_med"}}}}, {{"g": {{"t": "pgx"}}}}]}}}}))
        dre.assert_facts(h, json.dumps([{{"t": "draft_med", "sid": "{first}", "id": "1"}}]))
        _, state = dre.assert_facts(h, json.dumps([{{"t": "pgx", "sid": "{second}", "id": "2"}}]))
        print(dre.start_action_for_state(h, state) is not None)
    """)
    assert result.stdout.strip() == "True", result.stderr


def test_pooled_sids_and_fact_ids_cannot_collide():
    assert len({fnv1a32(sid) for sid in SIDS}) == len(SIDS)
    assert len({fnv1a32(fact_id) for fact_id in FACT_IDS}) == len(FACT_IDS)


def test_requests_of_two_patients_never_join(engine):
    mixed: list[object] = []

    def patient(facts: list[dict], rounds: int) -> None:
        for _ in range(rounds):
            mixed.extend(engine.evaluate(facts))

    threads = [
        threading.Thread(target=patient, args=([ORDER], 2000)),
        threading.Thread(target=patient, args=([POOR], 2000)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mixed == []


def test_defect_more_than_1024_live_states():
    result = raw("""
        h = dre.create_ruleset("r", json.dumps({"r": {"all": [{"m": {"t": "a"}}]}}))
        try:
            for n in range(1100):
                dre.assert_facts(h, json.dumps([{"t": "a", "sid": f"s{n}", "id": "1"}]))
        except MemoryError:
            print("MemoryError at", n)
    """)
    assert result.stdout.startswith("MemoryError at 1024"), result.stdout + result.stderr


def test_more_than_1024_requests(engine):
    for number in range(3000):
        facts = [ORDER, POOR] if number % 2 else [ORDER]
        assert len(engine.evaluate(facts)) == number % 2


def test_defect_identical_facts_are_merged():
    result = raw("""
        h = dre.create_ruleset("r", json.dumps({"r": {"all": [{"m": {"t": "a"}}]}}))
        _, state = dre.assert_facts(h, json.dumps([{"t": "a", "sid": "s"}, {"t": "a", "sid": "s"}]))
        fired, result = 0, dre.start_action_for_state(h, state)
        while result and result[1]:
            fired += 1
            result = [None, dre.complete_and_start_action(h, state)]
        print("fired", fired)
    """)
    assert result.stdout.strip() == "fired 1", result.stdout + result.stderr


def test_identical_facts_stay_separate(engine):
    matches = engine.evaluate([ORDER, ORDER, POOR])
    assert sorted(m.facts["order"] for m in matches) == [0, 1]


def test_defect_absence_is_judged_when_the_other_facts_arrive():
    """durable-rules' own ``$not`` fires although the absent fact is in the same batch."""
    result = raw("""
        rule = {"all": [{"o": {"t": "draft_med"}}, {"g$not": {"t": "pgx"}}]}
        h = dre.create_ruleset("r", json.dumps({"r": rule}))
        facts = [{"t": "draft_med", "sid": "s", "id": "1"}, {"t": "pgx", "sid": "s", "id": "2"}]
        _, state = dre.assert_facts(h, json.dumps(facts))
        print(dre.start_action_for_state(h, state) is not None)
    """)
    assert result.stdout.strip() == "True", result.stdout + result.stderr


@pytest.mark.parametrize("order_first", [True, False])
def test_an_absent_condition_holds_whatever_the_fact_order(order_first: bool):
    untested = {"order": JOIN["drug-gene"][0:1]}
    absent = {"order": [("gene", {"$and": [{"t": "pgx"}, {"gene": "DPYD"}]})]}
    compiled = CompiledRules(untested, SCHEMA, absent=absent)
    try:
        facts = [ORDER, POOR] if order_first else [POOR, ORDER]
        assert compiled.evaluate(facts) == []
        assert [m.rule_id for m in compiled.evaluate([ORDER])] == ["order"]
        other_gene = {"t": "pgx", "gene": "TPMT", "phenotype": "Poor metabolizer"}
        assert len(compiled.evaluate([other_gene, ORDER, ORDER])) == 2
    finally:
        compiled.close()


def test_defect_text_equals_number():
    result = raw("""
        h = dre.create_ruleset("r", json.dumps({"r": {"all": [{"m": {"code": "123"}}]}}))
        _, state = dre.assert_facts(h, json.dumps([{"code": 123, "sid": "s", "id": "1"}]))
        print(dre.start_action_for_state(h, state) is not None)
    """)
    assert result.stdout.strip() == "True"


def test_text_rule_against_number_is_refused_at_compile():
    rule = {"r": [("o", {"$and": [{"t": "draft_med"}, {"dose": "123"}]})]}
    with pytest.raises(EngineError, match=r"rule r: condition o: dose is float"):
        CompiledRules(rule, SCHEMA)


def test_number_fact_against_text_attribute_is_refused(engine):
    with pytest.raises(TypeError, match="code must be str"):
        engine.evaluate([{"t": "draft_med", "code": 123.0}])


def test_too_many_conditions_names_the_rule():
    conditions = [(f"c{n}", {"$and": [{"t": "pgx"}]}) for n in range(17)]
    with pytest.raises(EngineError, match="rule wide: 17 conditions"):
        CompiledRules({"wide": conditions}, SCHEMA)


def test_fan_out_that_would_hang_is_refused():
    values = [{"ingredient": f"drug{n}"} for n in range(MAX_EQUALITY_VALUES + 1)]
    rules = {"wide-list": [("o", {"$and": [{"t": "draft_med"}, {"$or": values}]})]}
    with pytest.raises(EngineError, match=r"rule wide-list: draft_med\.ingredient is compared"):
        CompiledRules(rules, SCHEMA)


def test_too_many_conditions_on_one_fact_type_names_the_rule():
    rules = {
        f"r{n}": [("o", {"$and": [{"t": "draft_med"}, {"ingredient": "a"}]})]
        for n in range(MAX_CONDITIONS_PER_FACT_TYPE + 1)
    }
    with pytest.raises(EngineError, match="rule r250: more than 250 conditions"):
        CompiledRules(rules, SCHEMA)


def test_unsupported_operator_names_the_rule():
    rules = {
        "fine": [("o", {"$and": [{"t": "draft_med"}, {"ingredient": "a"}]})],
        "bad-pattern": [("o", {"$and": [{"t": "draft_med"}, {"$mt": {"ingredient": "a%-"}}]})],
    }
    with pytest.raises(EngineError, match="rule bad-pattern"):
        CompiledRules(rules, SCHEMA)


def test_closed_rule_set_refuses_to_evaluate():
    compiled = CompiledRules(JOIN, SCHEMA)
    compiled.close()
    with pytest.raises(EngineError, match="closed"):
        compiled.evaluate([ORDER])
