"""durable-rules against a plain evaluator of the same conditions, on generated patients.

An engine bug (a missed join, a wrong comparison, facts of one request leaking into another)
would make the service silently say nothing. Hypothesis generates patients from the values the
rules test and values near them; for each, the rules durable-rules fires must be exactly the
rules the oracle says the conditions allow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cds_service.facts import schema
from cds_service.ruleset import conditions
from cds_service.ruleset.compiled import RuleSet
from cds_service.ruleset.loader import load_rule_set
from tests import oracle
from tests.conftest import copy_rules

# Every kind of test a condition can make, over joins of two and three facts.
OPERATORS = """\
meta:
  id: test.oracle
  title: Every condition operator
  version: "1"
  hooks: [order-sign]
  guideline: {label: Test rules for the engine oracle}
rules:
  - id: oracle-below-and-join
    when:
      order: {fact: draft_med, ingredient: {class: fluoropyrimidine}, dose_value: {below: 1000}}
      dpyd: {fact: pgx_phenotype, gene: DPYD, activity_score: {at_most: 1.5}}
    card: {indicator: info, summary: below}
  - id: oracle-above-any-of
    when:
      order: {fact: draft_med, dose_value: {above: 1000}, dose_unit: [mg/m2, mg]}
      patient: {fact: patient, age: {at_least: 50}, sex: {any_of: [female, other]}}
    card: {indicator: info, summary: above}
  - id: oracle-not-and-absent
    when:
      dpyd: {fact: pgx_phenotype, phenotype: {not: Normal metabolizer}, diplotype: {exists: false}}
    card: {indicator: info, summary: not}
  - id: oracle-exists-three-way
    when:
      order: {fact: draft_med, ingredient: capecitabine, frequency: {exists: true}}
      missing: {fact: pgx_missing, gene: DPYD}
      patient: {fact: patient, age: {below: 40}}
    card: {indicator: info, summary: three}
  - id: oracle-two-of-a-kind
    when:
      first: {fact: draft_med, ingredient: capecitabine}
      second: {fact: draft_med, ingredient: fluorouracil}
    card: {indicator: info, summary: two}
  - id: oracle-range-and-nothing-like
    when:
      patient: {fact: patient, age: {at_least: 12, at_most: 45}}
      order: {fact: draft_med, ingredient: {class: thiopurine}}
      no_test: {fact: pgx_missing, gene: TPMT, absent: true}
      no_phenotype:
        {fact: pgx_phenotype, gene: TPMT, phenotype: {not: Normal metabolizer}, absent: true}
    card: {indicator: info, summary: range}
"""


@pytest.fixture(scope="module")
def rule_set(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuleSet]:
    rules = copy_rules(tmp_path_factory.mktemp("oracle"))
    (rules / "oracle.yaml").write_text(OPERATORS, encoding="utf-8")
    loaded = load_rule_set(rules)
    yield loaded
    loaded.close()


def literals(rule_set: RuleSet) -> dict[tuple[str, str], list[Any]]:
    """Every value a condition names, per fact type and attribute, with numbers either side."""
    found: dict[tuple[str, str], set[Any]] = {}
    for rule in rule_set.rules.values():
        for spec in rule.when.values():
            for attribute, test in spec.items():
                values = found.setdefault((spec["fact"], attribute), set())
                for value in _values(test, rule_set):
                    if isinstance(value, bool):
                        continue
                    if isinstance(value, int | float):
                        values.update({value - 0.5, float(value), value + 0.5})
                    else:
                        values.add(value)
    return {key: sorted(values, key=str) for key, values in found.items() if values}


def _values(test: Any, rule_set: RuleSet) -> Sequence[Any]:
    if isinstance(test, list):
        return test
    if isinstance(test, dict):
        found: list[Any] = []
        for operator, operand in test.items():
            if operator == "class":
                found += rule_set.knowledge.drugs.classes[operand]
            else:
                found += operand if isinstance(operand, list) else [operand]
        return found
    return [test]


def near(test: Any, kind_type: type, rule_set: RuleSet) -> tuple[list[Any], list[Any]]:
    """Values that pass ``test``, and values just beside it that fail; ``None`` is "absent"."""
    if isinstance(test, dict) and len(test) > 1:  # several tests: sort their values again
        values = set()
        for one in test.items():
            values.update(*_near(dict([one]), kind_type, rule_set))
        spec, knowledge = {"fact": "x", "a": test}, rule_set.knowledge
        passing = [v for v in values if oracle.matches(spec, {"t": "x", "a": v}, knowledge)]
        failing = [v for v in values if v not in passing]
    else:
        passing, failing = _near(test, kind_type, rule_set)

    def typed(values: list[Any]) -> list[Any]:
        return [float(v) if kind_type is float and v is not None else v for v in values]

    return typed(passing), typed(failing)


def _near(test: Any, kind_type: type, rule_set: RuleSet) -> tuple[list[Any], list[Any]]:
    beside = "other" if kind_type is str else None
    if not isinstance(test, dict):
        values = test if isinstance(test, list) else [test]
        return values, [beside or values[0] + 0.5, None]
    ((operator, operand),) = test.items()
    if operator == "exists":
        present = 1.0 if kind_type is float else "x"
        return ([present], [None]) if operand else ([None], [present])
    if operator == "class":
        return list(rule_set.knowledge.drugs.classes[operand]), ["other", None]
    if operator == "any_of":
        return operand, [beside or operand[0] + 0.5, None]
    if operator == "not":
        return [beside or operand + 0.5], [operand, None]
    low, high = operand - 0.5, operand + 0.5
    passing = {
        "below": [low],
        "at_most": [low, operand],
        "above": [high],
        "at_least": [operand, high],
    }[operator]
    failing = {
        "below": [operand, high],
        "at_most": [high],
        "above": [low, operand],
        "at_least": [low],
    }[operator]
    return passing, [*failing, None]


def fact_strategy(
    kind: str,
    tests: Mapping[str, Any],
    pool: Mapping[tuple[str, str], list[Any]],
    rule_set: RuleSet,
    weight: int = 6,
) -> st.SearchStrategy[dict[str, Any]]:
    """A fact of ``kind``: attributes a condition tests take values on both sides of the test.

    A tested attribute takes a passing value ``weight`` times as often as each failing one.
    """

    def value(name: str, kind_type: type) -> st.SearchStrategy[Any]:
        if name in tests:  # mostly passing, so that joins of several conditions happen
            passing, failing = near(tests[name], kind_type, rule_set)
            return st.sampled_from(passing * weight + failing)
        other = [1234.5] if kind_type is float else ["other"]
        return st.sampled_from([None, *pool.get((kind, name), []), *other])

    strategies = {name: value(name, t) for name, t in schema()[kind].items()}
    return st.fixed_dictionaries({"t": st.just(kind)} | strategies).map(
        lambda view: {k: v for k, v in view.items() if v is not None}
    )


def patients(
    rule_set: RuleSet, aim: Callable[[str], bool] = lambda _: True
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Facts aimed at a few rules (one near-match per condition), among facts of every type."""
    pool = literals(rule_set)

    def aimed_at(spec: Mapping[str, Any], weight: int) -> st.SearchStrategy[list[dict[str, Any]]]:
        """A near-match of a condition; of an absent one, sometimes none at all."""
        fact = fact_strategy(spec["fact"], spec, pool, rule_set, weight)
        return st.lists(fact, max_size=1) if spec.get("absent") else fact.map(lambda f: [f])

    aimed = {
        rule.id: st.tuples(*[aimed_at(s, _weight(rule.when)) for s in rule.when.values()]).map(
            lambda groups: tuple(fact for group in groups for fact in group)
        )
        for rule in rule_set.rules.values()
        if aim(rule.id)
    }
    background = st.lists(
        st.one_of([fact_strategy(kind, {}, pool, rule_set) for kind in schema()]), max_size=4
    )
    targets = (  # at least one: a draw aimed at nothing rarely reaches a rule of many conditions
        st.lists(st.sampled_from(sorted(aimed)), min_size=1, max_size=3) if aimed else st.just([])
    )
    return st.tuples(
        targets.flatmap(lambda ids: st.tuples(*[aimed[i] for i in ids])), background
    ).flatmap(
        lambda parts: st.permutations([fact for group in parts[0] for fact in group] + parts[1])
    )


def _weight(when: Mapping[str, Mapping[str, Any]]) -> int:
    """More passing values for a rule that tests many attributes (an assay's eligibility tests
    a dozen), so that all its conditions still hold together in about half of the draws."""
    tested = sum(len(spec) - 1 for spec in when.values())
    return max(6, 3 * tested)


def compare_with_oracle(
    rule_set: RuleSet,
    examples: int,
    aim: Callable[[str], bool] = lambda _: True,
    shrink: bool = True,
) -> set[str]:
    """Run generated patients through the engine and the oracle; the rules that fired."""
    seen: set[str] = set()

    def runs(rule_id: str, hook: str) -> bool:
        return hook in rule_set.rules[rule_id].file.hooks

    hooks = ("order-sign", "order-select", "patient-view")
    generated = {  # aimed at the rules each hook runs, so that no draw is spent on another's
        hook: patients(rule_set, lambda rule_id, h=hook: aim(rule_id) and runs(rule_id, h))
        for hook in hooks
    }

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,  # the same patients on every run: the coverage check cannot flake
        database=None,
        phases=list(Phase) if shrink else [Phase.generate],
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(data=st.data())
    def compare(data: st.DataObject) -> None:
        for hook in hooks:
            facts = data.draw(generated[hook], label=f"facts at {hook}")
            rules = [rule for rule in rule_set.rules.values() if hook in rule.file.hooks]
            engine = {match.rule_id for match in rule_set.engines[hook].evaluate(facts)}
            assert engine == oracle.fired(rules, facts, rule_set.knowledge)
            seen.update(engine)

    compare()
    return seen


def test_engine_fires_exactly_what_the_conditions_allow(rule_set: RuleSet):
    # 1200: rules with an unconstrained "absent" condition (no advanced cancer on file) are
    # reached by fewer generated patients; with 219 rules 800 reached 196, 1200 reach more
    seen = compare_with_oracle(rule_set, examples=1200)
    assert len(seen) >= 0.9 * len(rule_set.rules), "the patients must reach nearly every rule"
    # Aimed at the operator rules alone, so that reaching each does not depend on how many
    # rules the bundled set has (every rule added shifts what a fixed seed generates).
    operators = compare_with_oracle(rule_set, 200, lambda rule_id: rule_id.startswith("oracle-"))
    operator_rules = {rule_id for rule_id in rule_set.rules if rule_id.startswith("oracle-")}
    assert operator_rules <= operators, "the generated patients must reach every operator rule"


def test_the_oracle_catches_a_wrong_comparison(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Were "below" compiled as "at most", the comparison must fail, not pass quietly.

    The patients are aimed at the rule that tests "below": another rule's facts in the same
    patient (a second fluoropyrimidine order under 1000) would make it fire rightly anyway.
    """
    monkeypatch.setitem(conditions.COMPARISONS, "below", "$lte")
    rules = copy_rules(tmp_path)
    (rules / "oracle.yaml").write_text(OPERATORS, encoding="utf-8")
    broken = load_rule_set(rules)
    try:
        with pytest.raises(AssertionError):
            compare_with_oracle(
                broken, 600, lambda rule_id: rule_id == "oracle-below-and-join", False
            )
    finally:
        broken.close()
