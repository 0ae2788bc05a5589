"""Validation of YAML documents against the rule-file schemas, in words an author reads.

jsonschema says ``False is not of type 'string'`` at ``['rules', 3, 'when', 'dpyd', 'gene']``;
an author needs ``pgx/dpyd.yaml:87: rule dpyd-poor: when.dpyd.gene: expected text, found 'no'
(read as False); write it in quotes``. This module turns the one into the other, using the lines
and written text that :mod:`yamlfile` keeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from ..protocol.yamlfile import RuleFileError, YamlList, YamlMap, how_written, is_surprising_bool
from .schemas import SCHEMAS


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(SCHEMAS[name]())


def validate(document: YamlMap, name: str, path: Path) -> list[RuleFileError]:
    """Every place where ``document`` breaks schema ``name``, each with its line and rule."""
    problems = []
    for error in _validator(name).iter_errors(document):
        chosen = _deepest(error)
        at = list(chosen.absolute_path)
        if chosen.validator == "additionalProperties":  # blame the first unknown key's line
            allowed = chosen.schema.get("properties", {})
            at += [next(key for key in chosen.instance if key not in allowed)]
        problems.append(
            RuleFileError(
                path, _message(chosen, document), _line(document, at), _rule_of(document, at)
            )
        )
    return sorted(problems, key=lambda p: p.line or 0)


def _deepest(error: ValidationError) -> ValidationError:
    """For "none of these shapes fit", the shape that came closest, as people would read it."""
    while error.context:
        error = best_match(error.context)
    return error


def _message(error: ValidationError, document: YamlMap) -> str:
    path = list(error.absolute_path)
    named_rule = _rule_of(document, path) is not None
    where = _path_text(path[2:] if named_rule else path)  # "rule X: when.dpyd.gene: ..."
    prefix = f"{where}: " if where else ""
    validator, expected = error.validator, error.validator_value
    if validator == "type":
        parent, key = _parent(document, error.absolute_path)
        written = how_written(parent, key)
        got = f"{written!r} (read as {error.instance!r})" if written else repr(error.instance)
        hint = ""
        if expected == "string" and written is not None:
            hint = f"; write it in quotes: '{written}'"
        elif expected == "boolean" and is_surprising_bool(written):
            hint = "; write true or false"
        return f"{prefix}expected {_say_type(expected)}, found {got}{hint}"
    if validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        return f"{prefix}unknown key {', '.join(map(repr, unknown))}; expected one of: " + (
            ", ".join(allowed)
        )
    if validator == "required":
        return f"{prefix}missing {error.message.split(' is a required')[0]}"
    if validator == "enum" and path[-2:] == ["after_override", "repeat"] and "hide" not in expected:
        return f"{prefix}a critical card is never hidden after an override; use show or info"
    if validator in ("enum", "const"):
        options = expected if validator == "enum" else [expected]
        return f"{prefix}{error.instance!r} is not one of: {', '.join(map(str, options))}"
    if (
        validator == "oneOf"
        and error.schema is not None
        and "facts" in error.schema.get("properties", {})
    ):
        return f"{prefix}an example needs either 'facts' or 'bundle', not both"
    return f"{prefix}{error.message}"


def _say_type(expected: Any) -> str:
    names = {
        "string": "text",
        "number": "a number",
        "boolean": "true or false",
        "object": "a mapping (key: value)",
        "array": "a list",
    }
    if isinstance(expected, list):
        return " or ".join(names.get(e, e) for e in expected)
    return names.get(expected, str(expected))


def _path_text(path: Sequence[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _parent(document: Any, path: Sequence[Any]) -> tuple[Any, Any]:
    node, key = document, None
    for part in list(path)[:-1]:
        node = node[part]
    if path:
        key = list(path)[-1]
    return node, key


def _line(document: YamlMap, path: Sequence[Any]) -> int:
    node: Any = document
    line = document.line
    for part in path:
        if isinstance(node, YamlMap | YamlList):
            line = node.line_of(part)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, YamlMap | YamlList) and not isinstance(part, int):
            line = node.line if node.line > line else line
    return line


def _rule_of(document: YamlMap, path: Sequence[Any]) -> str | None:
    parts = list(path)
    if len(parts) >= 2 and parts[0] == "rules" and isinstance(parts[1], int):
        rule = document["rules"][parts[1]]
        return str(rule.get("id")) if isinstance(rule, dict) else None
    return None
