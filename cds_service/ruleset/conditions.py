"""Rule conditions as authors write them, compiled into durable-rules expressions.

A condition names a fact type and tests some of its attributes::

    dpyd: {fact: pgx_phenotype, gene: DPYD, activity_score: {at_least: 1}}

A value is an equality, a list is "any of", and a mapping holds named tests that must all
hold (``age: {at_least: 12, at_most: 45}``). Every test but ``exists: false`` needs the attribute
to be present: ``not: X`` does not match a fact that has no value at all (durable-rules behaves
so, and the README says so). A condition marked ``absent: true`` holds when no fact meets it.

Attributes such as ``gene``, ``ingredient``, ``finding``, ``site``, ``item``, ``procedure`` or
``biomarker`` hold values from the knowledge tables (:data:`VOCABULARIES`); a value no table
lists is a typing mistake, refused here with the line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..engine.durable import Conditions
from ..knowledge.alleles import INDETERMINATE
from ..knowledge.care import EXTENTS
from ..knowledge.tables import Knowledge
from ..protocol.yamlfile import RuleFileError, YamlMap
from .schemas import COMPARISONS

Vocabulary = Callable[[Knowledge], frozenset[str]]


def _phenotypes(knowledge: Knowledge) -> frozenset[str]:
    genomics = knowledge.genomics
    tables = [table for table in genomics.genes.values() if table]
    derived = {
        *(band[2] for table in tables for band in table.bands),
        *(phenotype for table in tables for phenotype in table.function_phenotypes.values()),
        *(phenotype for table in tables for phenotype in table.hemizygous.values()),
    }
    return frozenset(
        {*genomics.answer_codes.values(), *genomics.answer_texts.values(), *derived, INDETERMINATE}
    )


VOCABULARIES: Mapping[str, tuple[str, Vocabulary]] = {
    "gene": ("genes in knowledge/genomics.yaml", lambda k: frozenset(k.genomics.genes)),
    "ingredient": ("drugs in knowledge/drugs.yaml", lambda k: k.drugs.ingredients),
    "phenotype": ("phenotypes in knowledge/", _phenotypes),
    "diplotype_phenotype": ("phenotypes in knowledge/", _phenotypes),
    "effective_phenotype": ("phenotypes in knowledge/", _phenotypes),
    "worst_phenotype": ("phenotypes in knowledge/", _phenotypes),
    "worst_gene": ("genes in knowledge/genomics.yaml", lambda k: frozenset(k.genomics.genes)),
    "finding": ("findings in knowledge/oncology.yaml", lambda k: frozenset(k.oncology.findings)),
    "site": (
        "cancer sites in knowledge/oncology.yaml",
        lambda k: frozenset(s.name for s in k.oncology.sites),
    ),
    "item": ("care items in knowledge/care.yaml", lambda k: frozenset(k.care.items)),
    "procedure": ("procedures in knowledge/procedures.yaml", lambda k: k.procedures.names),
    "after_procedure": ("procedures in knowledge/procedures.yaml", lambda k: k.procedures.names),
    "biomarker": (
        "biomarkers in knowledge/biomarkers.yaml",
        lambda k: frozenset(k.biomarkers.biomarkers),
    ),
    "extent": ("disease extents (knowledge/care.yaml)", lambda k: EXTENTS),
}
"""Attribute name -> (where its values come from, the values): a value outside is a typo."""


class Compiler:
    """Compiles the conditions of one rule, collecting every problem instead of stopping."""

    def __init__(
        self,
        path: Path,
        rule_id: str,
        knowledge: Knowledge,
        schema: Mapping[str, Mapping[str, type]],
    ):
        self.path, self.rule_id, self.knowledge, self.schema = path, rule_id, knowledge, schema
        self.problems: list[RuleFileError] = []

    def compile(self, when: YamlMap) -> tuple[Conditions, Conditions]:
        """The conditions facts must meet, and those no fact may meet (``absent: true``)."""
        present = tuple(
            (alias, self._condition(alias, spec))
            for alias, spec in when.items()
            if not is_absent(spec)
        )
        absent = tuple(
            (alias, self._condition(alias, spec)) for alias, spec in when.items() if is_absent(spec)
        )
        if not present:
            self._problem("every condition is absent: at least one must name a fact", when.line)
        return present, absent

    def _condition(self, alias: str, spec: YamlMap) -> dict[str, Any]:
        kind = spec["fact"]
        parts: list[dict[str, Any]] = [{"t": kind}]
        for attribute, test in spec.items():
            if attribute not in ("fact", "absent"):
                line = spec.line_of(attribute)
                parts.append(self._test(alias, attribute, test, self.schema[kind][attribute], line))
        return {"$and": parts}

    def _test(self, alias: str, attribute: str, test: Any, kind: type, line: int) -> dict:
        if isinstance(test, list):
            return _any_of(attribute, [self._value(alias, attribute, v, kind, line) for v in test])
        if not isinstance(test, dict):
            return {attribute: self._value(alias, attribute, test, kind, line)}
        parts = [
            self._named_test(alias, attribute, operator, value, kind, line)
            for operator, value in test.items()
        ]
        return parts[0] if len(parts) == 1 else {"$and": parts}

    def _named_test(
        self, alias: str, attribute: str, operator: str, value: Any, kind: type, line: int
    ) -> dict:
        if operator == "class":
            return _any_of(attribute, list(self._drug_class(alias, value, line)))
        if operator == "any_of":
            return _any_of(attribute, [self._value(alias, attribute, v, kind, line) for v in value])
        if operator == "exists":
            return {"$ex" if value else "$nex": {attribute: 1}}
        literal = self._value(alias, attribute, value, kind, line)
        return {COMPARISONS[operator]: {attribute: literal}}

    def _value(self, alias: str, attribute: str, value: Any, kind: type, line: int) -> Any:
        if kind is float:
            return float(value)
        vocabulary = VOCABULARIES.get(attribute)
        if vocabulary is not None:
            where, values = vocabulary[0], vocabulary[1](self.knowledge)
            if value not in values:
                self._problem(
                    f"condition {alias}: {attribute} {value!r} is not among the {where} "
                    f"({', '.join(sorted(values))})",
                    line,
                )
        return value

    def _drug_class(self, alias: str, name: str, line: int) -> tuple[str, ...]:
        members = self.knowledge.drugs.classes.get(name)
        if members is None:
            known = ", ".join(sorted(self.knowledge.drugs.classes))
            self._problem(
                f"condition {alias}: class {name!r} is not a drug class in "
                f"knowledge/drugs.yaml ({known})",
                line,
            )
            return ("",)
        return members

    def _problem(self, message: str, line: int) -> None:
        self.problems.append(RuleFileError(self.path, message, line, self.rule_id))


def _any_of(attribute: str, values: list[Any]) -> dict[str, Any]:
    return {"$or": [{attribute: v} for v in values]} if len(values) > 1 else {attribute: values[0]}


def is_absent(spec: Mapping[str, Any]) -> bool:
    """Whether a condition holds when no fact meets it."""
    return spec.get("absent") is True


def pinned_values(
    spec: Mapping[str, Any], attribute: str, knowledge: Knowledge
) -> list[Any] | None:
    """The values a condition allows for ``attribute``, when it names them (for length checks)."""
    test = spec.get(attribute)
    if isinstance(test, list):
        return test
    if isinstance(test, dict):
        if "any_of" in test:
            return list(test["any_of"])
        if "class" in test:
            return list(knowledge.drugs.classes.get(test["class"], ()))
        return None
    return None if test is None else [test]
