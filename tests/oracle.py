"""A small, obviously correct evaluator of rule conditions, to check the engine against.

It reads the conditions as the author wrote them (``Rule.when``), not the compiled engine
expressions, so it checks the compiler and durable-rules together. It tries every assignment
of facts to the aliases of a rule: slow, and plain enough to trust.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from cds_service.knowledge.tables import Knowledge
from cds_service.ruleset.compiled import Rule

View = Mapping[str, Any]


def fired(rules: Sequence[Rule], facts: Sequence[View], knowledge: Knowledge) -> set[str]:
    """The ids of the rules that at least one assignment of facts satisfies."""
    return {rule.id for rule in rules if _fires(rule, facts, knowledge)}


def _fires(rule: Rule, facts: Sequence[View], knowledge: Knowledge) -> bool:
    specs = rule.when.values()
    if any(matches(s, fact, knowledge) for s in specs if s.get("absent") for fact in facts):
        return False
    candidates = [
        [i for i, fact in enumerate(facts) if matches(spec, fact, knowledge)]
        for spec in specs
        if not spec.get("absent")
    ]
    return any(True for _ in itertools.product(*candidates))


def matches(spec: Mapping[str, Any], fact: View, knowledge: Knowledge) -> bool:
    if fact.get("t") != spec["fact"]:
        return False
    return all(
        _passes(test, fact.get(attribute), knowledge)
        for attribute, test in spec.items()
        if attribute not in ("fact", "absent")
    )


def _passes(test: Any, value: Any, knowledge: Knowledge) -> bool:
    if isinstance(test, dict):
        return all(_named(op, operand, value, knowledge) for op, operand in test.items())
    if value is None:
        return False
    if isinstance(test, list):
        return value in test
    return value == test


def _named(operator: str, operand: Any, value: Any, knowledge: Knowledge) -> bool:
    if operator == "exists":
        return (value is not None) == operand
    if value is None:
        return False  # every other test needs a value (rules/README.md)
    if operator == "class":
        return value in knowledge.drugs.classes[operand]
    if operator == "any_of":
        return value in operand
    return {
        "not": value != operand,
        "below": value < operand,
        "at_most": value <= operand,
        "above": value > operand,
        "at_least": value >= operand,
    }[operator]
