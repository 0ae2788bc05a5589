"""Rule sets: every file of a ``rules/`` folder, checked, compiled and ready to run per hook.

A rule file is one guideline topic (``meta``, ``rules``, ``examples``); ``rules/knowledge/``
holds the tables the facts are read with and ``rules/services.yaml`` the CDS services. Loading
checks everything an author can get wrong and reports every problem at once, each with its file,
line and rule, before durable-rules sees a single condition.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from .. import facts as fact_types
from ..engine.durable import CompiledRules, Engine, EngineError, EngineFactory
from ..knowledge.tables import Knowledge, load_knowledge
from ..prefetch.queries import KeySpec, OnError, template_problem
from ..protocol.yamlfile import RuleFileError, YamlMap, load_yaml
from .cardchecks import card_problems
from .compiled import Guideline, Rule, RuleFile, RuleSet, Service
from .conditions import Compiler
from .schemas import HOOKS, kind_of
from .sources import counts, fact_sources, reads
from .validation import validate

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
    "knowledge/plausibility.yaml",
)


class RuleSetInvalid(Exception):
    """A rule set that cannot be served, with every problem found in it."""

    def __init__(self, problems: Sequence[RuleFileError]):
        self.problems = list(problems)
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''}:\n{lines}")


def load_rule_set(directory: Path, compile_rules: EngineFactory = CompiledRules) -> RuleSet:
    """Load, check and compile every file under ``directory``; problems raise RuleSetInvalid.

    ``compile_rules`` makes the engine of each hook: in this process by default, or in the
    service's engine processes (``EnginePool.rules``).
    """
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
    prefetch_keys = {key for service in services.values() for key in service.prefetch}
    sources = fact_sources(services_path, documents[services_path], prefetch_keys, problems)
    files: list[tuple[RuleFile, set[str]]] = []
    rules: dict[str, Rule] = {}
    for path, document in documents.items():
        if kind_of(path, directory) != "rule-file":
            continue
        skip = broken.get(path, set())
        rule_file, file_rules = _rule_file(
            path, document, knowledge, schema, problems, skip, sources
        )
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
    engines = _compile(directory, rules, compile_rules)
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
    sources: Mapping[str, frozenset[str]],
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
        forward_looking=bool(meta.get("forward_looking")),
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
            reads=reads(entry["when"], sources),
            counts=counts(entry["when"], sources),
        )
        problems += compiler.problems
        problems += card_problems(rule, knowledge, schema)
        rules.append(rule)
    return rule_file, rules


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


def _compile(
    directory: Path, rules: Mapping[str, Rule], compile_rules: EngineFactory
) -> dict[str, Engine]:
    engines: dict[str, Engine] = {}
    schema = fact_types.schema()
    try:
        for hook in HOOKS:
            chosen = [r for r in rules.values() if hook in r.file.hooks]
            engines[hook] = compile_rules(
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
