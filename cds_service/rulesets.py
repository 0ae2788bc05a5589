"""Rule sets: every file of a ``rules/`` folder, checked, compiled and ready to run per hook.

A rule file is one guideline topic (``meta``, ``rules``, ``examples``); ``rules/knowledge/``
holds the tables the facts are read with and ``rules/services.yaml`` the CDS services. Loading
checks everything an author can get wrong and reports every problem at once, each with its file,
line and rule, before durable-rules sees a single condition.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fhir.resources.R4B.codeableconcept import CodeableConcept
from pydantic import ValidationError

from . import facts as fact_types
from . import templates
from .conditions import VOCABULARIES, Compiler, is_absent, pinned_values
from .engine import CompiledRules, Conditions, EngineError, Match
from .knowledge import Knowledge, load_knowledge
from .queries import KeySpec, OnError, template_problem
from .ruleschema import HOOKS, kind_of
from .validation import validate
from .yamlfile import RuleFileError, YamlMap, load_yaml

__all__ = ["HOOKS", "RuleSet", "RuleSetInvalid", "load_rule_set"]

_REQUIRED = (
    "services.yaml",
    "knowledge/drugs.yaml",
    "knowledge/genomics.yaml",
    "knowledge/conditions.yaml",
    "knowledge/oncology.yaml",
    "knowledge/care.yaml",
    "knowledge/procedures.yaml",
    "knowledge/biomarkers.yaml",
    "knowledge/anthracyclines.yaml",
)


class RuleSetInvalid(Exception):
    """A rule set that cannot be served, with every problem found in it."""

    def __init__(self, problems: Sequence[RuleFileError]):
        self.problems = list(problems)
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''}:\n{lines}")


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
    engines: dict[str, CompiledRules]

    def evaluate(self, hook: str, facts: Sequence[fact_types.Fact]) -> list[tuple[Rule, Match]]:
        matches = self.engines[hook].evaluate([fact.engine_view() for fact in facts])
        return [(self.rules[match.rule_id], match) for match in matches]

    def service_for(self, hook: str) -> Service | None:
        """The service in ``services.yaml`` that serves ``hook``."""
        return next((s for s in self.services.values() if s.hook == hook), None)

    def close(self) -> None:
        for engine in self.engines.values():
            engine.close()


def load_rule_set(directory: Path) -> RuleSet:
    """Load, check and compile every file under ``directory``; problems raise RuleSetInvalid."""
    directory = directory.resolve()
    problems: list[RuleFileError] = [
        RuleFileError(directory / name, "missing: every rules folder needs this file")
        for name in _REQUIRED
        if not (directory / name).is_file()
    ]
    documents, broken = _parse(directory, problems)
    if any(kind_of(p.path, directory) != "rule-file" for p in problems):
        raise RuleSetInvalid(_ordered(problems))  # no knowledge to check the rules against
    try:
        knowledge = load_knowledge(directory / "knowledge")
    except RuleFileError as error:
        raise RuleSetInvalid([error]) from None
    schema = fact_types.schema()
    services_path = directory / "services.yaml"
    services = _services(services_path, documents[services_path], problems)
    files: list[tuple[RuleFile, set[str]]] = []
    rules: dict[str, Rule] = {}
    for path, document in documents.items():
        if kind_of(path, directory) != "rule-file":
            continue
        skip = broken.get(path, set())
        rule_file, file_rules = _rule_file(path, document, knowledge, schema, problems, skip)
        files.append((rule_file, {rule.id for rule in file_rules} | skip))
        for rule in file_rules:
            if rule.id in rules:
                first = rules[rule.id]
                problems.append(
                    RuleFileError(
                        path,
                        f"rule id also used at {first.file.path}:{first.line}",
                        rule.line,
                        rule.id,
                    )
                )
            else:
                rules[rule.id] = rule
    problems += _example_problems(files, rules)
    if problems:
        raise RuleSetInvalid(_ordered(problems))
    engines = _compile(directory, rules)
    rule_files = [rule_file for rule_file, _ in files]
    return RuleSet(
        directory, version_of(directory), knowledge, services, rule_files, rules, engines
    )


def _parse(
    directory: Path, problems: list[RuleFileError]
) -> tuple[dict[Path, YamlMap], dict[Path, set[str]]]:
    """The files that can be checked further, and in each the rules that cannot.

    A rule file whose only schema problems are inside some rules is kept, without those
    rules, so that the author hears of every other problem in the same run.
    """
    documents: dict[Path, YamlMap] = {}
    broken: dict[Path, set[str]] = {}
    for path in sorted(directory.rglob("*.yaml")):
        try:
            document = load_yaml(path)
        except RuleFileError as error:
            problems.append(error)
            continue
        kind = kind_of(path, directory)
        found = validate(document, kind, path)
        problems += found
        if not found or (kind == "rule-file" and all(p.rule for p in found)):
            documents[path] = document
            broken[path] = {p.rule for p in found if p.rule}
    return documents, broken


def _ordered(problems: Iterable[RuleFileError]) -> list[RuleFileError]:
    return sorted(problems, key=lambda p: (str(p.path), p.line or 0))


def version_of(directory: Path) -> str:
    """A digest of every file's content: two folders with the same files have the same version."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*.yaml")):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _services(path: Path, document: YamlMap, problems: list[RuleFileError]) -> dict[str, Service]:
    services = {}
    for entry in document["services"]:
        prefetch: YamlMap = entry.get("prefetch") or YamlMap()
        policies: YamlMap = entry.get("prefetch_policy") or YamlMap()
        for key, template in prefetch.items():
            why = template_problem(template, entry["hook"])
            if why:
                message = f"service {entry['id']}: prefetch.{key}: {why}"
                problems.append(RuleFileError(path, message, prefetch.line_of(key)))
        for key in policies:
            if key not in prefetch:
                message = f"service {entry['id']}: prefetch_policy.{key}: no such prefetch key"
                problems.append(RuleFileError(path, message, policies.line_of(key)))
        services[entry["id"]] = Service(
            id=entry["id"],
            hook=entry["hook"],
            title=entry["title"],
            description=" ".join(entry["description"].split()),
            prefetch=dict(prefetch),
            keys=tuple(
                KeySpec(key, template, OnError(policies.get(key, OnError.FETCH)))
                for key, template in prefetch.items()
            ),
        )
    return services


def _rule_file(
    path: Path,
    document: YamlMap,
    knowledge: Knowledge,
    schema: Mapping[str, Mapping[str, type]],
    problems: list[RuleFileError],
    skip: set[str],
) -> tuple[RuleFile, list[Rule]]:
    meta = document["meta"]
    rule_file = RuleFile(
        path=path,
        id=meta["id"],
        title=meta["title"],
        version=meta["version"],
        hooks=tuple(meta["hooks"]),
        guideline=Guideline(**meta["guideline"]),
        links=tuple(meta.get("links") or ()),
        override_reasons=tuple(meta.get("override_reasons") or ()),
        examples=tuple(document.get("examples") or ()),
    )
    rules = []
    for entry in document["rules"]:
        if entry["id"] in skip:
            continue
        compiler = Compiler(path, entry["id"], knowledge, schema)
        conditions, absent = compiler.compile(entry["when"])
        rule = Rule(
            id=entry["id"],
            title=entry.get("title", entry["id"]),
            file=rule_file,
            line=entry.line,
            when=entry["when"],
            conditions=conditions,
            absent=absent,
            card=entry["card"],
        )
        problems += compiler.problems
        problems += _card_problems(rule, knowledge, schema)
        rules.append(rule)
    return rule_file, rules


def _card_problems(
    rule: Rule, knowledge: Knowledge, schema: Mapping[str, Mapping[str, type]]
) -> list[RuleFileError]:
    """Placeholders nothing fills, a summary that can overflow, a dose or code that cannot work."""
    messages = _placeholder_problems(rule)
    if not messages:  # a summary with unknown placeholders has no length to speak of
        messages += _summary_problems(rule, knowledge, schema)
    messages += _order_problems(rule) + _code_problems(rule) + _due_problems(rule, schema)
    return [RuleFileError(rule.file.path, text, line, rule.id) for text, line in messages]


def _placeholder_problems(rule: Rule) -> list[tuple[str, int]]:
    card = rule.card
    kinds = {alias: spec["fact"] for alias, spec in rule.when.items() if not is_absent(spec)}
    texts = [("summary", card["summary"], card.line_of("summary"))]
    if "detail" in card:
        texts.append(("detail", card["detail"], card.line_of("detail")))
    suggestions = card.get("suggestions") or []
    texts += [("suggestion label", s["label"], s.line_of("label")) for s in suggestions]
    texts += [
        ("service_request reason", r["reason"], r.line_of("reason"))
        for r in (s.get("service_request") for s in suggestions)
        if r and "reason" in r
    ]
    found = []
    for where, text, line in texts:
        for alias, attribute in templates.placeholders(text):
            why = templates.unknown_placeholder(alias, attribute, kinds)
            if alias in rule.when and is_absent(rule.when[alias]):
                why = f"{{{alias}.{attribute}}}: condition {alias} is absent, no fact fills it"
            elif why is None and alias in templates.COMPUTED and alias not in card:
                why = f"{{{alias}.{attribute}}} needs '{alias}' in the card"
            if why:
                found.append((f"{where}: {why}", line))
    return found


def _summary_problems(
    rule: Rule, knowledge: Knowledge, schema: Mapping[str, Mapping[str, type]]
) -> list[tuple[str, int]]:
    summary = rule.card["summary"]
    longest, parts = templates.longest(summary, _longest_values(rule, knowledge, schema))
    if longest <= templates.SUMMARY_MAX:
        return []
    message = (
        f"summary can reach {longest} characters once filled ({parts}); CDS Hooks asks for "
        "fewer than 140: shorten it, or move free text such as a diplotype to the detail"
    )
    return [(message, rule.card.line_of("summary"))]


def _order_problems(rule: Rule) -> list[tuple[str, int]]:
    """``dose`` and order suggestions must point at a draft order; adjust-dose needs a dose.

    A dose change needs the draft_med fact (its dose); cancelling an order needs only a fact
    about one draft order (``ORDER_FACTS``: a dose check names its order too).
    """
    card = rule.card
    suggestions = card.get("suggestions") or []
    dose = card.get("dose")
    draft = (fact_types.DraftMedication.kind,)
    about_order = tuple(t.kind for t in fact_types.ORDER_FACTS)
    checks = [(dose, draft)] if dose else []
    checks += [
        (s, draft if s["action"] == "adjust-dose" else about_order)
        for s in suggestions
        if s["action"] in ("adjust-dose", "remove-order")
    ]
    found = []
    for spec, kinds in checks:
        alias = spec.get("order", "order")
        if rule.when.get(alias, {}).get("fact") not in kinds:
            line = spec.line_of("order") if "order" in spec else spec.line
            found.append(
                (f"'order: {alias}' must name a condition on a {' or '.join(kinds)} fact", line)
            )
    if any(s["action"] == "adjust-dose" for s in suggestions) and not dose:
        found.append(
            ("an adjust-dose suggestion needs 'dose' in the card", card.line_of("suggestions"))
        )
    return found


def _code_problems(rule: Rule) -> list[tuple[str, int]]:
    """The code and category of a ServiceRequest suggestion must be FHIR CodeableConcepts."""
    found = []
    for suggestion in rule.card.get("suggestions") or []:
        request = suggestion.get("service_request") or {}
        for key in ("code", "category"):
            if key not in request:
                continue
            try:
                CodeableConcept.model_validate(request[key])
            except ValidationError as error:
                first = error.errors()[0]
                where = ".".join(str(part) for part in (key, *first["loc"]))
                message = f"service_request.{where}: {first['msg']} (a FHIR CodeableConcept)"
                found.append((message, request.line_of(key)))
    return found


def _due_problems(rule: Rule, schema: Mapping[str, Mapping[str, type]]) -> list[tuple[str, int]]:
    """``due.after`` must name a text attribute of a condition's fact: the date counted from."""
    due = rule.card.get("due")
    if not due:
        return []
    alias, _, attribute = str(due["after"]).partition(".")
    spec = rule.when.get(alias, {})
    if spec and not is_absent(spec) and schema[spec["fact"]].get(attribute) is str:
        return []
    message = (
        f"due.after {due['after']!r} must be condition.attribute naming a date of a condition's "
        f"fact (conditions: {', '.join(rule.when)})"
    )
    return [(message, due.line_of("after"))]


def _longest_values(
    rule: Rule, knowledge: Knowledge, schema: Mapping[str, Mapping[str, type]]
) -> dict[tuple[str, str], int]:
    """The longest text each placeholder of ``rule`` can put into a summary."""
    longest: dict[tuple[str, str], int] = {
        ("due", "date"): max(len("YYYY-MM-DD"), len(templates.DUE_UNKNOWN)),
        ("due", "weeks"): templates.NUMBER_MAX,
    }
    for alias, spec in rule.when.items():
        if is_absent(spec):
            continue
        for attribute, kind in schema[spec["fact"]].items():
            pinned = pinned_values(spec, attribute, knowledge)
            if kind is float:
                longest[(alias, attribute)] = templates.NUMBER_MAX
            elif pinned:
                longest[(alias, attribute)] = max(len(str(v)) for v in pinned)
            elif attribute in VOCABULARIES:
                values = VOCABULARIES[attribute][1](knowledge)
                longest[(alias, attribute)] = max((len(v) for v in values), default=0)
    return longest


def _example_problems(
    files: Sequence[tuple[RuleFile, set[str]]], rules: Mapping[str, Rule]
) -> list[RuleFileError]:
    """Examples that expect a card no rule can give, or name a bundle that is not there."""
    found = []
    every = set(rules).union(*(own for _, own in files))
    for rule_file, own in files:
        for example in rule_file.examples:
            named = [card["rule"] for card in example["cards"]] + list(example.get("not_cards", []))
            allowed = own if "facts" in example else every
            for rule_id in named:
                if rule_id not in allowed:
                    where = "this file" if "facts" in example else "the rule set"
                    found.append(
                        RuleFileError(
                            rule_file.path,
                            f"example {example['name']!r}: no rule {rule_id!r} in {where}",
                            example.line,
                        )
                    )
            if "bundle" in example and not (rule_file.path.parent / example["bundle"]).is_file():
                found.append(
                    RuleFileError(
                        rule_file.path,
                        f"example {example['name']!r}: bundle {example['bundle']} not found "
                        f"(paths are relative to this file)",
                        example.line_of("bundle"),
                    )
                )
    return found


def _compile(directory: Path, rules: Mapping[str, Rule]) -> dict[str, CompiledRules]:
    engines: dict[str, CompiledRules] = {}
    schema = fact_types.schema()
    try:
        for hook in HOOKS:
            chosen = [r for r in rules.values() if hook in r.file.hooks]
            engines[hook] = CompiledRules(
                {r.id: r.conditions for r in chosen},
                schema,
                absent={r.id: r.absent for r in chosen if r.absent},
            )
    except EngineError as error:
        for engine in engines.values():
            engine.close()
        rule = rules.get(error.rule_id or "")
        if rule is None:
            raise RuleSetInvalid([RuleFileError(directory, str(error))]) from None
        raise RuleSetInvalid(
            [RuleFileError(rule.file.path, error.reason, rule.line, rule.id)]
        ) from None
    return engines
