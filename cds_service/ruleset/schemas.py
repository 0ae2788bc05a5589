"""JSON Schemas of rule files and ``services.yaml``, and the registry of every schema.

The rule-file schema is built from the fact types, so the attributes a condition may test are
never listed twice; ``cds-service rules schema`` writes all schemas to ``rules/schema/`` where an
editor (VS Code with the YAML extension, JetBrains) checks a file while it is typed. The same
schemas validate every file when a rule set is loaded (``validation.py``).
"""

from __future__ import annotations

import json
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from ..facts import FACT_TYPES, schema
from ..knowledge.drugschemas import anthracyclines_schema, drugs_schema
from ..knowledge.genomicschemas import (
    alleles_schema,
    biomarkers_schema,
    genomics_schema,
    notations_schema,
)
from ..knowledge.oncologyschemas import (
    care_schema,
    conditions_schema,
    oncology_schema,
    procedures_schema,
)
from ..knowledge.plausibility import plausibility_schema
from ..knowledge.schemaparts import ID, TEXT, array, closed, document, mapping
from ..prefetch.queries import OnError
from ..protocol.messages import CONTEXTS

HOOKS = tuple(CONTEXTS)
ACTIONS = ("adjust-dose", "remove-order", "order-test", "refer")
REPEATS = ("show", "info", "hide")
"""What a card does after it was overridden for the same patient and evidence (store/repeats)."""
FACT_SOURCE = r"^[a-z_]+(\.[a-z_]+)?$"
"""A fact (``pgx_phenotype``) or one of its attributes (``pgx_phenotype.inhibited_by``)."""
COMPARISONS = {"not": "$neq", "below": "$lt", "at_most": "$lte", "above": "$gt", "at_least": "$gte"}
"""The comparison tests a condition may use, and the engine operator each becomes."""


def _value_type(kind: type) -> dict:
    return {"type": "number"} if kind is float else {"type": "string"}


def _test(kind: type, attribute: str) -> dict:
    """What one attribute of a condition may say: a value, a list, or named tests (all hold)."""
    value = _value_type(kind)
    tests: dict[str, Any] = {"any_of": array(value, minItems=1), "exists": {"type": "boolean"}}
    tests |= {name: value for name in COMPARISONS if kind is float or name == "not"}
    if attribute == "ingredient":
        tests["class"] = TEXT
    named_tests = closed(tests, minProperties=1)
    return {"anyOf": [value, array(value, minItems=1), named_tests]}


def _conditions() -> dict:
    kinds = schema()
    per_kind = [
        {
            "if": {"properties": {"fact": {"const": kind}}},
            "then": closed(
                {"fact": True, "absent": {"const": True}}
                | {name: _test(t, name) for name, t in attributes.items()}
            ),
        }
        for kind, attributes in kinds.items()
    ]
    condition = {
        "type": "object",
        "required": ["fact"],
        "properties": {"fact": {"enum": sorted(kinds)}},
        "allOf": per_kind,
    }
    return {
        "type": "object",
        "minProperties": 1,
        "propertyNames": {"pattern": r"^[a-z][a-z0-9_]*$"},
        "additionalProperties": condition,
    }


def _example_facts() -> dict:
    per_kind = []
    for fact_type in FACT_TYPES:
        hints = schema()[fact_type.kind]
        required = [
            f.name
            for f in fields(fact_type)
            if f.default is MISSING and f.default_factory is MISSING
        ]
        properties = {"fact": True, "sources": array(TEXT)}
        properties |= {name: _value_type(t) for name, t in hints.items()}
        per_kind.append(
            {
                "if": {"properties": {"fact": {"const": fact_type.kind}}},
                "then": closed(properties, required),
            }
        )
    return array(
        {
            "type": "object",
            "required": ["fact"],
            "properties": {"fact": {"enum": [t.kind for t in FACT_TYPES]}},
            "allOf": per_kind,
        }
    )


def _suggestion() -> dict:
    return closed(
        {
            "action": {"enum": list(ACTIONS)},
            "label": TEXT,
            "recommended": {"type": "boolean"},
            "order": TEXT,
            "service_request": closed(
                {"code": {"type": "object"}, "category": {"type": "object"}, "reason": TEXT},
                ["code"],
            ),
        },
        ["action", "label"],
        allOf=[
            {
                "if": {"properties": {"action": {"const": "order-test"}}},
                "then": {"required": ["service_request"]},
            },
            {
                "if": {"properties": {"action": {"const": "refer"}}},
                "then": {
                    "required": ["service_request"],
                    "properties": {"service_request": {"required": ["code", "category"]}},
                },
            },
        ],
    )


def _critical_never_hidden() -> dict:
    """A critical card may be shown as info after an override, never hidden."""
    return {
        "if": {"properties": {"indicator": {"const": "critical"}}, "required": ["indicator"]},
        "then": {
            "properties": {"after_override": {"properties": {"repeat": {"enum": ["show", "info"]}}}}
        },
    }


def rule_file_schema() -> dict:
    factor = {"type": "number", "exclusiveMinimum": 0, "maximum": 1}
    card = closed(
        {
            "indicator": {"enum": ["info", "warning", "critical"]},
            "summary": TEXT,
            "detail": TEXT,
            "strength": TEXT,
            "dose": closed(
                {
                    "order": TEXT,
                    "factor": factor,
                    "up_to": factor,
                    "value": {"type": "number", "exclusiveMinimum": 0},
                    "unit": TEXT,
                },
                oneOf=[
                    {"required": ["factor"], "not": {"required": ["value"]}},
                    {"required": ["value", "unit"], "not": {"required": ["factor"]}},
                ],
            ),
            "due": closed(
                {
                    "after": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"},
                    "weeks": {"type": "number", "exclusiveMinimum": 0},
                },
                ["after", "weeks"],
            ),
            "suggestions": array(_suggestion()),
            "after_override": closed(
                {
                    "repeat": {"enum": list(REPEATS)},
                    "within_hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 2160},
                },
                ["repeat", "within_hours"],
            ),
        },
        ["indicator", "summary"],
        allOf=[_critical_never_hidden()],
    )
    rule = closed(
        {"id": ID, "title": TEXT, "when": _conditions(), "card": card},
        ["id", "when", "card"],
    )
    expected_card = closed(
        {
            "rule": TEXT,
            "summary_contains": TEXT,
            "indicator": {"enum": ["info", "warning", "critical"]},
        },
        ["rule"],
    )
    example = closed(
        {
            "name": TEXT,
            "hook": {"enum": list(HOOKS)},
            "facts": _example_facts(),
            "bundle": TEXT,
            "orders": array(TEXT, minItems=1),
            "cards": array(expected_card),
            "not_cards": array(TEXT),
        },
        ["name", "cards"],
        oneOf=[{"required": ["facts"]}, {"required": ["bundle"]}],
    )
    meta = closed(
        {
            "id": ID,
            "title": TEXT,
            "version": TEXT,
            "hooks": array({"enum": list(HOOKS)}, minItems=1, uniqueItems=True),
            "guideline": closed(
                {"label": TEXT, "url": {"type": "string", "format": "uri"}, "citation": TEXT},
                ["label"],
            ),
            "links": array(closed({"label": TEXT, "url": TEXT}, ["label", "url"])),
            "override_reasons": array(closed({"code": TEXT, "display": TEXT}, ["code", "display"])),
            "forward_looking": {"type": "boolean"},
        },
        ["id", "title", "version", "hooks", "guideline"],
    )
    return document(
        "rule-file",
        "A rule file: one guideline topic with its rules and the examples that test them.",
        closed(
            {"meta": meta, "rules": array(rule, minItems=1), "examples": array(example)},
            ["meta", "rules"],
        ),
    )


def services_schema() -> dict:
    service = closed(
        {
            "id": ID,
            "hook": {"enum": list(HOOKS)},
            "title": TEXT,
            "description": TEXT,
            "prefetch": mapping(TEXT),
            "prefetch_policy": mapping({"enum": [policy.value for policy in OnError]}),
        },
        ["id", "hook", "title", "description"],
    )
    return document(
        "services",
        "The CDS services the discovery endpoint lists, with their prefetch templates.",
        closed(
            {
                "services": array(service),
                "fact_sources": mapping(array({"type": "string", "pattern": FACT_SOURCE})),
            },
            ["services"],
        ),
    )


SCHEMAS = {
    "rule-file": rule_file_schema,
    "services": services_schema,
    "knowledge-drugs": drugs_schema,
    "knowledge-genomics": genomics_schema,
    "knowledge-alleles": alleles_schema,
    "knowledge-conditions": conditions_schema,
    "knowledge-oncology": oncology_schema,
    "knowledge-care": care_schema,
    "knowledge-procedures": procedures_schema,
    "knowledge-biomarkers": biomarkers_schema,
    "knowledge-anthracyclines": anthracyclines_schema,
    "knowledge-plausibility": plausibility_schema,
    "knowledge-notations": notations_schema,
}


def kind_of(path: Path, directory: Path) -> str:
    """Which schema a file under a rules folder follows, from where it lies."""
    parts = path.relative_to(directory).parts
    if parts == ("services.yaml",):
        return "services"
    if parts[0] == "knowledge":
        table = f"knowledge-{path.stem}" if len(parts) == 2 else ""
        return table if table in SCHEMAS else "knowledge-alleles"
    return "rule-file"


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCHEMAS:
        path = folder / f"{name}.schema.json"
        path.write_text(render(name), encoding="utf-8")
        written.append(path)
    return written


def render(name: str) -> str:
    return json.dumps(SCHEMAS[name](), indent=2, ensure_ascii=False) + "\n"
