"""Building blocks of the JSON Schemas: closed objects, arrays, text, and the document frame."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

BASE = "https://github.com/oncology-pgx-cds/oncology-pgx-cds/rules/schema/"
TEXT = {"type": "string", "minLength": 1}
ID = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9.-]*$"}
META_COMMON = {
    "title": TEXT,
    "version": TEXT,
    "sources": {"type": "array", "items": TEXT},
    "note": TEXT,
}
CODE = {
    "type": "object",
    "properties": {"system": TEXT, "code": TEXT},
    "required": ["system", "code"],
    "additionalProperties": False,
}
KNOWLEDGE_META = {
    "type": "object",
    "properties": META_COMMON,
    "required": ["title", "version", "sources"],
    "additionalProperties": False,
}


def closed(properties: Mapping[str, Any], required: Sequence[str] = (), **extra: Any) -> dict:
    return {
        "type": "object",
        "properties": dict(properties),
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }


def mapping(values: Any) -> dict:
    """An object whose keys the author chooses (drugs, genes) and whose values follow ``values``."""
    return {"type": "object", "additionalProperties": values}


def array(items: Any, **extra: Any) -> dict:
    return {"type": "array", "items": items, **extra}


def document(name: str, description: str, body: dict) -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{BASE}{name}.schema.json",
        "title": name,
        "description": description,
        **body,
    }
