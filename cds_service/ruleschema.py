"""JSON Schemas for rule files and knowledge tables, and validation that names the line.

The schemas are built here from the fact types, so the attributes a condition may test are
never listed twice; ``cds-service rules schema`` writes them to ``rules/schema/`` where an
editor (VS Code with the YAML extension, JetBrains) checks a file while it is typed. The same
schemas validate every file when a rule set is loaded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from .facts import FACT_TYPES, schema

HOOKS = ("patient-view", "order-select", "order-sign")
ACTIONS = ("adjust-dose", "remove-order", "order-test")
COMPARISONS = {"not": "$neq", "below": "$lt", "at_most": "$lte", "above": "$gt", "at_least": "$gte"}
"""The comparison tests a condition may use, and the engine operator each becomes."""

_BASE = "https://github.com/oncology-pgx-cds/oncology-pgx-cds/rules/schema/"
_TEXT = {"type": "string", "minLength": 1}
_ID = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9.-]*$"}
_META_COMMON = {
    "title": _TEXT,
    "version": _TEXT,
    "sources": {"type": "array", "items": _TEXT},
    "note": _TEXT,
}
_CODE = {
    "type": "object",
    "properties": {"system": _TEXT, "code": _TEXT},
    "required": ["system", "code"],
    "additionalProperties": False,
}
_KNOWLEDGE_META = {
    "type": "object",
    "properties": _META_COMMON,
    "required": ["title", "version", "sources"],
    "additionalProperties": False,
}


def _closed(properties: Mapping[str, Any], required: Sequence[str] = (), **extra: Any) -> dict:
    return {
        "type": "object",
        "properties": dict(properties),
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }


def _array(items: Any, **extra: Any) -> dict:
    return {"type": "array", "items": items, **extra}


def _value_type(kind: type) -> dict:
    return {"type": "number"} if kind is float else {"type": "string"}


def _test(kind: type, attribute: str) -> dict:
    """What one attribute of a condition may say: a value, a list, or one named test."""
    value = _value_type(kind)
    tests: dict[str, Any] = {"any_of": _array(value, minItems=1), "exists": {"type": "boolean"}}
    tests |= {name: value for name in COMPARISONS if kind is float or name == "not"}
    if attribute == "ingredient":
        tests["class"] = _TEXT
    one_test = _closed(tests, minProperties=1, maxProperties=1)
    return {"anyOf": [value, _array(value, minItems=1), one_test]}


def _conditions() -> dict:
    kinds = schema()
    per_kind = [
        {
            "if": {"properties": {"fact": {"const": kind}}},
            "then": _closed(
                {"fact": True} | {name: _test(t, name) for name, t in attributes.items()}
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
        properties = {"fact": True, "sources": _array(_TEXT)}
        properties |= {name: _value_type(t) for name, t in hints.items()}
        per_kind.append(
            {
                "if": {"properties": {"fact": {"const": fact_type.kind}}},
                "then": _closed(properties, required),
            }
        )
    return _array(
        {
            "type": "object",
            "required": ["fact"],
            "properties": {"fact": {"enum": [t.kind for t in FACT_TYPES]}},
            "allOf": per_kind,
        }
    )


def _suggestion() -> dict:
    return _closed(
        {
            "action": {"enum": list(ACTIONS)},
            "label": _TEXT,
            "recommended": {"type": "boolean"},
            "order": _TEXT,
            "service_request": _closed({"code": {"type": "object"}, "reason": _TEXT}, ["code"]),
        },
        ["action", "label"],
        allOf=[
            {
                "if": {"properties": {"action": {"const": "order-test"}}},
                "then": {"required": ["service_request"]},
            }
        ],
    )


def rule_file_schema() -> dict:
    factor = {"type": "number", "exclusiveMinimum": 0, "maximum": 1}
    card = _closed(
        {
            "indicator": {"enum": ["info", "warning", "critical"]},
            "summary": _TEXT,
            "detail": _TEXT,
            "strength": _TEXT,
            "dose": _closed(
                {
                    "order": _TEXT,
                    "factor": factor,
                    "up_to": factor,
                    "value": {"type": "number", "exclusiveMinimum": 0},
                    "unit": _TEXT,
                },
                oneOf=[
                    {"required": ["factor"], "not": {"required": ["value"]}},
                    {"required": ["value", "unit"], "not": {"required": ["factor"]}},
                ],
            ),
            "suggestions": _array(_suggestion()),
        },
        ["indicator", "summary"],
    )
    rule = _closed(
        {"id": _ID, "title": _TEXT, "when": _conditions(), "card": card},
        ["id", "when", "card"],
    )
    expected_card = _closed(
        {
            "rule": _TEXT,
            "summary_contains": _TEXT,
            "indicator": {"enum": ["info", "warning", "critical"]},
        },
        ["rule"],
    )
    example = _closed(
        {
            "name": _TEXT,
            "hook": {"enum": list(HOOKS)},
            "facts": _example_facts(),
            "bundle": _TEXT,
            "orders": _array(_TEXT, minItems=1),
            "cards": _array(expected_card),
            "not_cards": _array(_TEXT),
        },
        ["name", "cards"],
        oneOf=[{"required": ["facts"]}, {"required": ["bundle"]}],
    )
    meta = _closed(
        {
            "id": _ID,
            "title": _TEXT,
            "version": _TEXT,
            "hooks": _array({"enum": list(HOOKS)}, minItems=1, uniqueItems=True),
            "guideline": _closed(
                {"label": _TEXT, "url": {"type": "string", "format": "uri"}, "citation": _TEXT},
                ["label"],
            ),
            "links": _array(_closed({"label": _TEXT, "url": _TEXT}, ["label", "url"])),
            "override_reasons": _array(
                _closed({"code": _TEXT, "display": _TEXT}, ["code", "display"])
            ),
        },
        ["id", "title", "version", "hooks", "guideline"],
    )
    return _document(
        "rule-file",
        "A rule file: one guideline topic with its rules and the examples that test them.",
        _closed(
            {"meta": meta, "rules": _array(rule, minItems=1), "examples": _array(example)},
            ["meta", "rules"],
        ),
    )


def services_schema() -> dict:
    service = _closed(
        {
            "id": _ID,
            "hook": {"enum": list(HOOKS)},
            "title": _TEXT,
            "description": _TEXT,
            "prefetch": {"type": "object", "additionalProperties": _TEXT},
            "prefetch_policy": {
                "type": "object",
                "additionalProperties": {"enum": ["fetch", "skip", "fail"]},
            },
        },
        ["id", "hook", "title", "description"],
    )
    return _document(
        "services",
        "The CDS services the discovery endpoint lists, with their prefetch templates.",
        _closed({"services": _array(service)}, ["services"]),
    )


def drugs_schema() -> dict:
    drug = _closed(
        {
            "rxnorm": _array(_TEXT),
            "names": _array(_TEXT),
            "form_of": _TEXT,
            "inhibits": {
                "type": "object",
                "additionalProperties": {"enum": ["strong", "moderate", "weak"]},
            },
        }
    )
    return _document(
        "knowledge-drugs",
        "Drug ingredients (with RxNorm codes and names) and the classes rules test.",
        _closed(
            {
                "meta": _KNOWLEDGE_META,
                "drugs": {"type": "object", "additionalProperties": drug},
                "classes": {"type": "object", "additionalProperties": _array(_TEXT, minItems=1)},
            },
            ["meta", "drugs", "classes"],
        ),
    )


def genomics_schema() -> dict:
    code = _closed({"system": _TEXT, "code": _TEXT, "gene": _TEXT}, ["system", "code"])
    codes = _array(code, minItems=1)
    return _document(
        "knowledge-genomics",
        "How pharmacogenomic results are coded in FHIR, and the genes the rules know.",
        _closed(
            {
                "meta": _KNOWLEDGE_META,
                "systems": {"type": "object", "additionalProperties": _TEXT},
                "genotype": _closed({"codes": codes}, ["codes"]),
                "phenotype": _closed(
                    {"codes": codes, "value_components": codes}, ["codes", "value_components"]
                ),
                "gene_component": codes,
                "medication_component": codes,
                "phenotype_answers": _closed(
                    {
                        "codes": {"type": "object", "additionalProperties": _TEXT},
                        "texts": {"type": "object", "additionalProperties": _TEXT},
                    },
                    ["codes", "texts"],
                ),
                "genes": {
                    "type": "object",
                    "additionalProperties": _closed(
                        {"hgnc": {"type": "string", "pattern": r"^HGNC:\d+$"}, "alleles": _TEXT},
                        ["hgnc"],
                    ),
                },
                "test_order_statuses": _array(_TEXT, minItems=1),
                "groups": {
                    "type": "object",
                    "additionalProperties": _closed(
                        {
                            "genes": _array(_TEXT, minItems=2),
                            "reduced": _array(_TEXT, minItems=1),
                            "source": _TEXT,
                        },
                        ["genes", "reduced", "source"],
                    ),
                },
            },
            [
                "meta",
                "systems",
                "genotype",
                "phenotype",
                "gene_component",
                "medication_component",
                "phenotype_answers",
                "genes",
            ],
        ),
    )


def alleles_schema() -> dict:
    allele = _closed(
        {
            "name": _TEXT,
            "aliases": _array(_TEXT),
            "function": _TEXT,
            "activity": {"type": "number", "minimum": 0},
        },
        ["name", "function"],
    )
    band = _closed(
        {"min": {"type": "number"}, "max": {"type": "number"}, "phenotype": _TEXT},
        ["min", "max", "phenotype"],
    )
    pair = _closed(
        {"functions": _array(_TEXT, minItems=2, maxItems=2), "phenotype": _TEXT},
        ["functions", "phenotype"],
    )
    return _document(
        "knowledge-alleles",
        "One gene's allele functions (and activity values), and how a pair gives the phenotype:"
        " activity-score bands, or function pairs for genes without a score.",
        _closed(
            {
                "meta": _closed(_META_COMMON | {"gene": _TEXT}, ["gene", "title", "version"]),
                "reference": _TEXT,
                "alleles": _array(allele, minItems=1),
                "phenotypes": _array(band, minItems=1),
                "function_phenotypes": _array(pair, minItems=1),
                "inhibitor_factors": {
                    "type": "object",
                    "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
                },
            },
            ["meta", "reference", "alleles"],
            oneOf=[{"required": ["phenotypes"]}, {"required": ["function_phenotypes"]}],
        ),
    )


def conditions_schema() -> dict:
    indication = _closed(
        {"profiles": _array(_TEXT), "codes": _array(_CODE), "words": _array(_TEXT)}
    )
    status = _closed(
        {"system": _TEXT, "code": _TEXT, "status": {"enum": ["premenopausal", "postmenopausal"]}},
        ["system", "code", "status"],
    )
    return _document(
        "knowledge-conditions",
        "What Conditions say that rules need: malignant or not, menopausal status.",
        _closed(
            {
                "meta": _KNOWLEDGE_META,
                "indications": {"type": "object", "additionalProperties": indication},
                "menopause": _closed(
                    {
                        "codes": _array(status),
                        "postmenopausal_from_age": {"type": "number", "minimum": 0},
                    },
                    ["codes"],
                ),
            },
            ["meta", "indications", "menopause"],
        ),
    )


def oncology_schema() -> dict:
    words = _array(_TEXT)
    finding = _closed(
        {
            "codes": _array(_CODE, minItems=1),
            "words": words,
            "answers": {"type": "object", "additionalProperties": _TEXT},
            "unit": _TEXT,
            "from_units": {
                "type": "object",
                "additionalProperties": {"type": "number", "exclusiveMinimum": 0},
            },
            "bands": _array(
                _closed({"below": {"type": "number"}, "band": _TEXT}, ["band"]), minItems=1
            ),
            "ordered_when": words,
        },
        ["codes"],
    )
    number = {"type": "number", "exclusiveMinimum": 0}
    auc = _closed(
        {
            "drugs": _array(_TEXT, minItems=1),
            "auc_units": _array(_TEXT, minItems=1),
            "auc_patterns": _array(_TEXT, minItems=1),
            "dose_unit": _TEXT,
            "calvert": _closed(
                {"add_to_gfr": number, "gfr_cap": number}, ["add_to_gfr", "gfr_cap"]
            ),
            "cockcroft_gault": _closed(
                {
                    "age_from": number,
                    "divisor": number,
                    "female_factor": number,
                    "creatinine": _TEXT,
                    "weight": _TEXT,
                },
                ["age_from", "divisor", "female_factor", "creatinine", "weight"],
            ),
        },
        ["drugs", "auc_units", "auc_patterns", "dose_unit", "calvert", "cockcroft_gault"],
    )
    return _document(
        "knowledge-oncology",
        "Cancer sites, oncology findings (codes, answers, units, bands) and AUC dose formulas.",
        _closed(
            {
                "meta": _closed(_META_COMMON, ["title", "version", "sources"]),
                "systems": {"type": "object", "additionalProperties": _TEXT},
                "cancers": {
                    "type": "object",
                    "additionalProperties": _closed({"codes": _array(_CODE), "words": words}),
                },
                "findings": {"type": "object", "additionalProperties": finding},
                "auc_dosing": auc,
            },
            ["meta", "systems", "cancers", "findings", "auc_dosing"],
        ),
    )


def _document(name: str, description: str, body: dict) -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{_BASE}{name}.schema.json",
        "title": name,
        "description": description,
        **body,
    }


SCHEMAS = {
    "rule-file": rule_file_schema,
    "services": services_schema,
    "knowledge-drugs": drugs_schema,
    "knowledge-genomics": genomics_schema,
    "knowledge-alleles": alleles_schema,
    "knowledge-conditions": conditions_schema,
    "knowledge-oncology": oncology_schema,
}


def kind_of(path: Path, directory: Path) -> str:
    """Which schema a file under a rules folder follows, from where it lies."""
    parts = path.relative_to(directory).parts
    if parts == ("services.yaml",):
        return "services"
    if parts[0] == "knowledge":
        if parts[1:] == ("drugs.yaml",):
            return "knowledge-drugs"
        if parts[1:] == ("genomics.yaml",):
            return "knowledge-genomics"
        if parts[1:] == ("conditions.yaml",):
            return "knowledge-conditions"
        if parts[1:] == ("oncology.yaml",):
            return "knowledge-oncology"
        return "knowledge-alleles"
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
