"""Rule files from ``rules/``: load them, compile their conditions, and run them per hook.

A rule file is one guideline topic (``meta``, ``rules``, ``examples``); ``rules/knowledge/`` holds
the tables the facts are read with and ``rules/services.yaml`` the CDS services. The rule
conditions are written for people (``activity_score: {at_least: 1}``) and compiled here into
durable-rules expressions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fhir.resources.R4B.codeableconcept import CodeableConcept
from pydantic import ValidationError

from . import facts as fact_types
from .engine import CompiledRules, EngineError, Match
from .knowledge import Knowledge, load_knowledge
from .yamlfile import RuleFileError, load_yaml

HOOKS = ("patient-view", "order-select", "order-sign")
_OPERATORS = {
    "not": "$neq",
    "below": "$lt",
    "at_most": "$lte",
    "above": "$gt",
    "at_least": "$gte",
}


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
    examples: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    file: RuleFile
    conditions: tuple[tuple[str, dict[str, Any]], ...]
    card: Mapping[str, Any]


@dataclass(frozen=True)
class Service:
    id: str
    hook: str
    title: str
    description: str
    prefetch: Mapping[str, str] = field(default_factory=dict)


@dataclass
class RuleSet:
    """Everything loaded from one ``rules/`` folder; immutable once built."""

    directory: Path
    version: str
    knowledge: Knowledge
    services: dict[str, Service]
    files: list[RuleFile]
    rules: dict[str, Rule]
    engines: dict[str, CompiledRules]

    def evaluate(self, hook: str, facts: Sequence[fact_types.Fact]) -> list[tuple[Rule, Match]]:
        matches = self.engines[hook].evaluate([fact.engine_view() for fact in facts])
        return [(self.rules[match.rule_id], match) for match in matches]

    def close(self) -> None:
        for engine in self.engines.values():
            engine.close()


def load_rule_set(directory: Path) -> RuleSet:
    """Load, check and compile every file under ``directory``; any problem raises RuleFileError."""
    directory = directory.resolve()
    knowledge = load_knowledge(directory / "knowledge")
    services = _services(directory / "services.yaml")
    files: list[RuleFile] = []
    rules: dict[str, Rule] = {}
    schema = fact_types.schema()
    for path in _rule_paths(directory):
        rule_file, file_rules = _rule_file(path, knowledge, schema)
        files.append(rule_file)
        for rule in file_rules:
            if rule.id in rules:
                raise RuleFileError(
                    path, f"rule id also used in {rules[rule.id].file.path}", rule=rule.id
                )
            rules[rule.id] = rule
    engines: dict[str, CompiledRules] = {}
    try:
        for hook in HOOKS:
            chosen = {r.id: r.conditions for r in rules.values() if hook in r.file.hooks}
            engines[hook] = CompiledRules(chosen, schema)
    except EngineError as error:
        for engine in engines.values():
            engine.close()
        raise RuleFileError(directory, str(error)) from None
    return RuleSet(directory, _version(directory), knowledge, services, files, rules, engines)


def _rule_paths(directory: Path) -> list[Path]:
    return sorted(
        path
        for path in directory.rglob("*.yaml")
        if path.parent.name != "knowledge"
        and "knowledge" not in path.relative_to(directory).parts
        and path.name != "services.yaml"
    )


def _version(directory: Path) -> str:
    """A digest of every file's content: two folders with the same files have the same version."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*.yaml")):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _services(path: Path) -> dict[str, Service]:
    doc = load_yaml(path)
    services: dict[str, Service] = {}
    for entry in doc.get("services") or []:
        service = Service(
            id=entry["id"],
            hook=entry["hook"],
            title=entry["title"],
            description=" ".join(entry["description"].split()),
            prefetch=dict(entry.get("prefetch") or {}),
        )
        if service.hook not in HOOKS:
            raise RuleFileError(
                path, f"service {service.id}: hook must be one of {', '.join(HOOKS)}"
            )
        services[service.id] = service
    return services


def _rule_file(
    path: Path, knowledge: Knowledge, schema: Mapping[str, Mapping[str, type]]
) -> tuple[RuleFile, list[Rule]]:
    doc = load_yaml(path)
    meta = doc.get("meta")
    if not isinstance(meta, dict):
        raise RuleFileError(path, "needs a 'meta' section")
    for key in ("id", "title", "version", "hooks", "guideline"):
        if key not in meta:
            raise RuleFileError(path, f"meta needs '{key}'")
    hooks = tuple(meta["hooks"])
    unknown = [h for h in hooks if h not in HOOKS]
    if unknown:
        raise RuleFileError(path, f"meta.hooks: unknown hook {unknown[0]!r}")
    rule_file = RuleFile(
        path=path,
        id=str(meta["id"]),
        title=str(meta["title"]),
        version=str(meta["version"]),
        hooks=hooks,
        guideline=Guideline(**meta["guideline"]),
        links=tuple(meta.get("links") or ()),
        override_reasons=tuple(meta.get("override_reasons") or ()),
        examples=tuple(doc.get("examples") or ()),
    )
    rules = [_rule(path, entry, rule_file, knowledge, schema) for entry in doc.get("rules") or []]
    return rule_file, rules


def _rule(
    path: Path,
    entry: Mapping[str, Any],
    rule_file: RuleFile,
    knowledge: Knowledge,
    schema: Mapping[str, Mapping[str, type]],
) -> Rule:
    rule_id = str(entry.get("id"))
    when = entry.get("when")
    if not isinstance(when, dict) or not when:
        raise RuleFileError(path, "needs 'when' with at least one condition", rule=rule_id)
    conditions = tuple(
        (alias, _condition(path, rule_id, alias, spec, knowledge, schema))
        for alias, spec in when.items()
    )
    card = entry.get("card")
    if not isinstance(card, dict):
        raise RuleFileError(path, "needs a 'card'", rule=rule_id)
    for suggestion in card.get("suggestions") or []:
        _check_suggestion(path, rule_id, suggestion)
    return Rule(rule_id, str(entry.get("title", rule_id)), rule_file, conditions, card)


def _condition(
    path: Path,
    rule_id: str,
    alias: str,
    spec: Any,
    knowledge: Knowledge,
    schema: Mapping[str, Mapping[str, type]],
) -> dict[str, Any]:
    if not isinstance(spec, dict) or "fact" not in spec:
        raise RuleFileError(path, f"condition {alias} needs 'fact'", rule=rule_id)
    kind = spec["fact"]
    if kind not in schema:
        known = ", ".join(sorted(schema))
        raise RuleFileError(
            path, f"condition {alias}: unknown fact {kind!r} ({known})", rule=rule_id
        )
    parts: list[dict[str, Any]] = [{"t": kind}]
    for attribute, test in spec.items():
        if attribute == "fact":
            continue
        if attribute not in schema[kind]:
            known = ", ".join(schema[kind])
            raise RuleFileError(
                path,
                f"condition {alias}: {kind} has no attribute {attribute!r} ({known})",
                rule=rule_id,
            )
        expected = schema[kind][attribute]

        def literal(value: Any, attribute: str = attribute, expected: type = expected) -> Any:
            return _literal(path, rule_id, alias, attribute, value, expected)

        parts.append(_test(path, rule_id, alias, attribute, test, literal, knowledge))
    return {"$and": parts}


def _test(
    path: Path,
    rule_id: str,
    alias: str,
    attribute: str,
    test: Any,
    literal: Any,
    knowledge: Knowledge,
) -> dict[str, Any]:
    if isinstance(test, list):
        return _any_of(attribute, [literal(v) for v in test])
    if not isinstance(test, dict):
        return {attribute: literal(test)}
    if len(test) != 1:
        raise RuleFileError(path, f"condition {alias}: one test per attribute", rule=rule_id)
    ((operator, value),) = test.items()
    if operator == "class":
        members = knowledge.drugs.classes.get(value)
        if attribute != "ingredient" or members is None:
            raise RuleFileError(
                path,
                f"condition {alias}: 'class' takes a drug class from knowledge/drugs.yaml "
                f"on 'ingredient' ({value!r})",
                rule=rule_id,
            )
        return _any_of(attribute, list(members))
    if operator == "any_of" and isinstance(value, list):
        return _any_of(attribute, [literal(v) for v in value])
    if operator == "exists" and isinstance(value, bool):
        return {"$ex" if value else "$nex": {attribute: 1}}
    if operator in _OPERATORS:
        return {_OPERATORS[operator]: {attribute: literal(value)}}
    allowed = ", ".join([*_OPERATORS, "any_of", "exists", "class"])
    raise RuleFileError(
        path, f"condition {alias}: unknown test {operator!r} ({allowed})", rule=rule_id
    )


def _any_of(attribute: str, values: list[Any]) -> dict[str, Any]:
    return {"$or": [{attribute: v} for v in values]} if len(values) > 1 else {attribute: values[0]}


def _literal(
    path: Path, rule_id: str, alias: str, attribute: str, value: Any, expected: type
) -> str | float:
    if expected is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if expected is str and isinstance(value, str):
        return value
    raise RuleFileError(
        path,
        f"condition {alias}: {attribute} takes {'a number' if expected is float else 'text'}, "
        f"not {value!r}" + (" (write text in quotes)" if expected is str else ""),
        rule=rule_id,
    )


_ACTIONS = ("adjust-dose", "remove-order", "order-test")


def _check_suggestion(path: Path, rule_id: str, suggestion: Any) -> None:
    if not isinstance(suggestion, dict) or suggestion.get("action") not in _ACTIONS:
        raise RuleFileError(
            path, f"a suggestion needs 'action', one of {', '.join(_ACTIONS)}", rule=rule_id
        )
    if suggestion["action"] == "order-test":
        code = (suggestion.get("service_request") or {}).get("code")
        try:
            CodeableConcept.model_validate(code)
        except ValidationError as error:
            raise RuleFileError(
                path, f"service_request.code is not a FHIR CodeableConcept: {error}", rule=rule_id
            ) from None
