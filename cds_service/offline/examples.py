"""The examples inside rule files, run as tests.

An example gives a patient either as facts (``facts:``) or as a fixture Bundle with the drugs
to order (``bundle:``, ``orders:``), and lists the cards it must produce (``cards:``) and, if
it wants, rules that must stay silent (``not_cards:``). The cards of the example's own file
must match the list exactly; a bundle runs through the whole rule set, so its example can also
speak of other files' rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .. import service
from ..cards.render import Firing, render
from ..facts import FACT_TYPES, Fact, Unreadable, schema
from ..prefetch.record import PatientRecord
from ..protocol.outcomes import ClientError
from ..protocol.yamlfile import YamlMap
from ..ruleset.compiled import RuleFile, RuleSet
from . import bundles

_BY_KIND = {fact_type.kind: fact_type for fact_type in FACT_TYPES}


@dataclass(frozen=True)
class Shown:
    """A card as an example sees it."""

    rule: str
    summary: str
    indicator: str


@dataclass
class ExampleResult:
    file: RuleFile
    name: str
    line: int
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def run_examples(rule_set: RuleSet) -> list[ExampleResult]:
    return [
        run_example(rule_set, rule_file, example)
        for rule_file in rule_set.files
        for example in rule_file.examples
    ]


def run_example(rule_set: RuleSet, rule_file: RuleFile, example: YamlMap) -> ExampleResult:
    result = ExampleResult(rule_file, example["name"], example.line)
    try:
        shown = (
            _from_bundle(rule_set, rule_file, example)
            if "bundle" in example
            else (_from_facts(rule_set, rule_file, example))
        )
    except (ClientError, OSError, TypeError, ValueError) as error:
        result.problems.append(f"could not run: {error}")
        return result
    own = {rule.id for rule in rule_set.rules.values() if rule.file is rule_file}
    expected = list(example["cards"])
    got = sorted(card.rule for card in shown if card.rule in own)
    want = sorted(spec["rule"] for spec in expected if spec["rule"] in own)
    if got != want:
        result.problems.append(f"expected cards {want or 'none'}, got {got or 'none'}")
    for spec in expected:
        matching = [card for card in shown if card.rule == spec["rule"]]
        if matching:
            result.problems += _card_problems(spec, matching)
        elif spec["rule"] not in own:  # a missing card of this file is in the line above
            result.problems.append(f"{spec['rule']}: expected, but it did not appear")
    for rule_id in example.get("not_cards", []):
        if any(card.rule == rule_id for card in shown):
            result.problems.append(f"{rule_id}: must not appear, but did")
    return result


def _card_problems(spec: Mapping[str, Any], shown: Sequence[Shown]) -> list[str]:
    rule = spec["rule"]
    problems = []
    text = spec.get("summary_contains")
    if text is not None and not any(text in card.summary for card in shown):
        problems.append(f"{rule}: no summary contains {text!r}: {[c.summary for c in shown]}")
    indicator = spec.get("indicator")
    if indicator is not None and all(card.indicator != indicator for card in shown):
        problems.append(f"{rule}: expected indicator {indicator}, got {shown[0].indicator}")
    return problems


def _from_facts(rule_set: RuleSet, rule_file: RuleFile, example: YamlMap) -> list[Shown]:
    facts = [make_fact(spec) for spec in example["facts"]]
    record = PatientRecord(patient_id="example")
    notes = [f for f in facts if isinstance(f, Unreadable)]
    hook = example.get("hook", rule_file.hooks[0])
    shown = []
    for rule, match in rule_set.evaluate(hook, facts):
        firing = Firing(rule, {alias: facts[i] for alias, i in match.facts.items()})
        card = render(firing, record, rule_set, notes)
        shown.append(Shown(rule.id, card.summary, card.indicator))
    return shown


def _from_bundle(rule_set: RuleSet, rule_file: RuleFile, example: YamlMap) -> list[Shown]:
    hook = example.get("hook", rule_file.hooks[0])
    chosen = rule_set.service_for(hook)
    if chosen is None:
        raise ValueError(f"no service in services.yaml serves {hook}")
    bundle = json.loads((rule_file.path.parent / example["bundle"]).read_text(encoding="utf-8"))
    document = bundles.request_from_bundle(
        bundle, chosen, example.get("orders", []), rule_set.knowledge
    )
    request = service.parse_request(document)
    response = service.call(chosen, request, rule_set, datetime.now(UTC).date())
    return [
        Shown(card.source.topic.code, card.summary, card.indicator)
        for card in response.cards
        if card.source.topic is not None
    ]


def make_fact(spec: Mapping[str, Any]) -> Fact:
    """A fact from its written form: ``{fact: draft_med, ingredient: capecitabine, ...}``."""
    kind = spec.get("fact")
    if kind not in _BY_KIND:
        raise ValueError(f"unknown fact {kind!r} ({', '.join(_BY_KIND)})")
    numeric = {name for name, kind_type in schema()[kind].items() if kind_type is float}
    values = {
        name: float(value) if name in numeric and isinstance(value, int) else value
        for name, value in spec.items()
        if name != "fact"
    }
    if "sources" in values:
        values["sources"] = tuple(values["sources"])
    return _BY_KIND[kind](**values)
