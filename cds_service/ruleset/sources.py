"""Which prefetch keys each rule reads, and the checks a call could not run without them.

``services.yaml`` says, as data, which facts (or fact attributes) each prefetch key feeds
(``fact_sources``). A rule needs every key that feeds a fact or attribute its conditions test,
present or absent. When a key cannot be obtained, the rules that need it do not run (their
"no result on file" would be false) and ``notrun.py`` names them on one card per answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..facts import schema
from ..protocol.yamlfile import RuleFileError, YamlMap

_NOT_TESTS = {"fact", "absent"}
"""Members of a condition that are not attribute tests."""
UNDECLARED = frozenset({"unreadable"})
"""Fact types no key declares: what could not be read of a key's data is not data it feeds,
and the test of ``fact_sources`` (tests/test_partial.py) leaves them out. Nothing about them
is known when a key is missing."""


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


def reads(when: YamlMap, sources: Mapping[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """Per condition of ``when`` (by alias), the prefetch keys that feed what it tests.

    Without those keys the facts of its type may differ in what it tests; without any other key
    they are the same facts, so whether one meets the condition is known.
    """
    found = {}
    for alias, condition in when.items():
        kind = condition["fact"]
        tested = {kind, *(f"{kind}.{name}" for name in condition if name not in _NOT_TESTS)}
        found[alias] = frozenset(key for key, fed in sources.items() if fed & tested)
    return found


def counts(when: YamlMap, sources: Mapping[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """Per condition of ``when`` (by alias), the prefetch keys that feed its fact type whole.

    Without the other keys it reads (``reads``), only some attributes of its facts are unknown:
    the facts themselves are all there, so a condition on a type with no fact meets none.
    """
    return {
        alias: frozenset(key for key, fed in sources.items() if condition["fact"] in fed)
        for alias, condition in when.items()
    }
