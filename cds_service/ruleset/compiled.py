"""A rule set as it is served: its files, rules and services, and the engines compiled per hook.

Built by ``loader`` and read by every later stage (cards, the service, the tools); immutable once
built, so a call can hold one while a hot reload builds the next.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .. import facts as fact_types
from ..engine.durable import Conditions, Engine, Match
from ..knowledge.tables import Knowledge
from ..prefetch.queries import KeySpec
from ..protocol.yamlfile import YamlMap
from .remembered import Remembered


@dataclass(frozen=True)
class Guideline:
    label: str
    url: str | None = None
    citation: str | None = None


@dataclass(frozen=True)
class RuleFile:
    path: Path
    id: str
    title: str
    version: str
    hooks: tuple[str, ...]
    guideline: Guideline
    links: tuple[Mapping[str, str], ...] = ()
    override_reasons: tuple[Mapping[str, str], ...] = ()
    examples: tuple[YamlMap, ...] = ()
    forward_looking: bool = False
    """Its cards are about care still to come: none for a patient recorded as deceased."""


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    file: RuleFile
    line: int
    when: YamlMap
    """The conditions as written; ``conditions`` and ``absent`` are what the engine runs."""
    conditions: Conditions
    absent: Conditions
    card: YamlMap
    reads: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Per condition alias, the prefetch keys whose data it tests (``fact_sources`` in
    services.yaml)."""
    counts: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Per condition alias, the keys of ``reads`` without which facts of its type may be
    missing or extra (not only some of their attributes)."""

    @cached_property
    def needs(self) -> frozenset[str]:
        """The prefetch keys without which the rule cannot run."""
        return frozenset().union(*self.reads.values())


@dataclass(frozen=True)
class Service:
    id: str
    hook: str
    title: str
    description: str
    prefetch: Mapping[str, str] = field(default_factory=dict)
    keys: tuple[KeySpec, ...] = ()
    """The prefetch keys with what to do when the client's own query failed."""


@dataclass
class RuleSet:
    """Everything loaded from one ``rules/`` folder; immutable once built."""

    directory: Path
    version: str
    knowledge: Knowledge
    services: dict[str, Service]
    files: list[RuleFile]
    rules: dict[str, Rule]
    engines: dict[str, Engine]
    remembered: Remembered = field(default_factory=Remembered, repr=False, compare=False)
    """The facts and cards of the records this rule set has read (``ruleset/remembered.py``)."""

    def evaluate(self, hook: str, facts: Sequence[fact_types.Fact]) -> list[tuple[Rule, Match]]:
        matches = self.engines[hook].evaluate([fact.engine_view() for fact in facts])
        return [(self.rules[match.rule_id], match) for match in matches]

    def of_hook(self, hook: str) -> tuple[Rule, ...]:
        return self._by_hook.get(hook, ())

    @cached_property
    def _by_hook(self) -> dict[str, tuple[Rule, ...]]:
        """Every call asks for its hook's rules: sorted out once, not per call."""
        hooks = {hook for rule in self.rules.values() for hook in rule.file.hooks}
        return {h: tuple(r for r in self.rules.values() if h in r.file.hooks) for h in hooks}

    def service_for(self, hook: str) -> Service | None:
        """The service in ``services.yaml`` that serves ``hook``."""
        return next((s for s in self.services.values() if s.hook == hook), None)

    def close(self) -> None:
        for engine in self.engines.values():
            engine.close()
