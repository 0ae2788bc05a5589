"""Which prefetch keys each rule reads, and the checks a call could not run without them.

``services.yaml`` says, as data, which facts (or fact attributes) each prefetch key feeds
(``fact_sources``). A rule needs every key that feeds a fact or attribute its conditions test,
present or absent. When a key cannot be obtained, the rules that need it do not run (their
"no result on file" would be false) and :func:`not_run` turns them into one fact per rule file,
which ``data-quality.yaml`` shows as a card naming the checks and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from ..facts import ChecksNotRun, schema
from ..protocol.yamlfile import RuleFileError, YamlMap
from .compiled import Rule

_NOT_TESTS = {"fact", "absent"}
"""Members of a condition that are not attribute tests."""


def fact_sources(
    path: Path, document: YamlMap, prefetch_keys: set[str], problems: list[RuleFileError]
) -> dict[str, frozenset[str]]:
    """``fact_sources`` of services.yaml, each fact and attribute checked against the facts."""
    declared: YamlMap = document.get("fact_sources") or YamlMap()
    facts = schema()
    sources: dict[str, frozenset[str]] = {}
    for key, fed in declared.items():
        if key not in prefetch_keys:
            message = f"fact_sources.{key}: no service has this prefetch key"
            problems.append(RuleFileError(path, message, declared.line_of(key)))
        for name in fed:
            kind, _, attribute = name.partition(".")
            if kind not in facts or (attribute and attribute not in facts[kind]):
                message = f"fact_sources.{key}: {name!r} is no fact or fact attribute"
                problems.append(RuleFileError(path, message, declared.line_of(key)))
        sources[key] = frozenset(fed)
    return sources


def needs(when: YamlMap, sources: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """The prefetch keys a rule with conditions ``when`` reads."""
    tested = set()
    for condition in when.values():
        kind = condition["fact"]
        tested |= {kind, *(f"{kind}.{name}" for name in condition if name not in _NOT_TESTS)}
    return frozenset(key for key, fed in sources.items() if fed & tested)


def not_run(rules: Iterable[Rule], blocked: Mapping[str, str]) -> list[ChecksNotRun]:
    """One fact per rule file whose rules need a key in ``blocked`` (key -> why it is missing)."""
    by_file: dict[str, tuple[list[Rule], set[str]]] = {}
    for rule in rules:
        missing = rule.needs & blocked.keys()
        if missing:
            skipped, keys = by_file.setdefault(rule.file.id, ([], set()))
            skipped.append(rule)
            keys |= missing
    return [
        ChecksNotRun(
            area=skipped[0].file.title,
            checks="; ".join(rule.title for rule in skipped),
            count=float(len(skipped)),
            keys=", ".join(sorted(keys)),
            why="; ".join(blocked[key] for key in sorted(keys)),
            sources=(f"rule file {skipped[0].file.id}",),  # one card, one uuid, per area
        )
        for skipped, keys in by_file.values()
    ]
