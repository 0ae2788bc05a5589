"""The examples inside rule files, run as tests: each lists the cards it must produce."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import cards
from .facts import FACT_TYPES, Fact, Unreadable, schema
from .record import PatientRecord
from .rulesets import RuleFile, RuleSet

_BY_KIND = {fact_type.kind: fact_type for fact_type in FACT_TYPES}


@dataclass
class ExampleResult:
    file: RuleFile
    name: str
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def run_examples(rule_set: RuleSet) -> list[ExampleResult]:
    return [
        _run(rule_set, rule_file, example)
        for rule_file in rule_set.files
        for example in rule_file.examples
    ]


def _run(rule_set: RuleSet, rule_file: RuleFile, example: Mapping[str, Any]) -> ExampleResult:
    result = ExampleResult(rule_file, str(example.get("name", "unnamed example")))
    try:
        facts = [make_fact(spec) for spec in example.get("facts") or []]
    except (KeyError, TypeError, ValueError) as error:
        result.problems.append(f"facts: {error}")
        return result
    record = PatientRecord(patient_id="example")
    notes = [f for f in facts if isinstance(f, Unreadable)]
    fired = [
        cards.Firing(rule, {alias: facts[i] for alias, i in match.facts.items()})
        for rule, match in rule_set.evaluate(rule_file.hooks[0], facts)
        if rule.file is rule_file
    ]
    expected = list(example.get("cards") or [])
    got = sorted(f.rule.id for f in fired)
    want = sorted(str(spec["rule"]) for spec in expected)
    if got != want:
        result.problems.append(f"expected cards {want or 'none'}, got {got or 'none'}")
        return result
    for spec in expected:
        text = spec.get("summary_contains")
        if text is None:
            continue
        summaries = [
            cards.render(f, record, rule_set, notes).summary
            for f in fired
            if f.rule.id == spec["rule"]
        ]
        if not any(text in summary for summary in summaries):
            result.problems.append(f"{spec['rule']}: no summary contains {text!r}: {summaries}")
    return result


def make_fact(spec: Mapping[str, Any]) -> Fact:
    """A fact from its written form: ``{fact: draft_med, ingredient: capecitabine, ...}``."""
    kind = spec.get("fact")
    if kind not in _BY_KIND:
        raise ValueError(f"unknown fact {kind!r} ({', '.join(_BY_KIND)})")
    fact_type = _BY_KIND[kind]
    numeric = {name for name, kind_type in schema()[kind].items() if kind_type is float}
    values = {
        name: float(value) if name in numeric and isinstance(value, int) else value
        for name, value in spec.items()
        if name != "fact"
    }
    if "sources" in values:
        values["sources"] = tuple(values["sources"])
    return fact_type(**values)
