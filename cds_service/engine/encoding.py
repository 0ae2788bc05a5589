"""How values are written for durable-rules, whose C JSON parser is not a full JSON parser.

It reads an exponent only after a fraction: ``1e-06`` is read as ``1`` and garbage, and the
process crashes or the batch matches nothing. ``repr`` and orjson write that form for any number
below 1e-5 or from 1e16 up, so every number, in a fact or a rule, is written by
:func:`engine_number`, which the C ``atof`` reads back as the same double. A value no number of
the engine can hold (infinite, not a number; orjson would write ``null``, which the engine counts
as present), or text that is not valid Unicode, is refused with :class:`FactRefused` instead of
being sent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import orjson

Scalar = str | float
FactSchema = Mapping[str, Mapping[str, type]]
"""Fact type (the ``t`` attribute) -> attribute -> ``str`` or ``float``."""


class FactRefused(ValueError):
    """A fact holds a value the engine cannot take; ``refusal`` says why, for a note."""


def refusal(value: Scalar | None) -> str | None:
    """Why the engine cannot take ``value`` (None: it can): only finite numbers are comparable,
    and only text that is valid Unicode can be written (a lone surrogate cannot)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} is not a finite number"
    if isinstance(value, str) and not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            return "is text with a lone surrogate, not valid Unicode"
    return None


def engine_number(value: float) -> str:
    """``value`` as durable-rules' JSON parser reads it back exactly: the shortest round-trip
    form, with ``.0`` before an exponent that has no fraction (``1e-06`` -> ``1.0e-06``)."""
    text = repr(value)
    mantissa, marker, exponent = text.partition("e")
    if marker and "." not in mantissa:
        return f"{mantissa}.0e{exponent}"
    return text


def engine_json(value: Any) -> str:
    """JSON of facts or rules with every float written by :func:`engine_number`."""
    return orjson.dumps(_fragments(value)).decode()


def _fragments(value: Any) -> Any:
    if isinstance(value, float):
        return orjson.Fragment(engine_number(value))
    if isinstance(value, dict):
        return {key: _fragments(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_fragments(item) for item in value]
    return value


def encode_fact(schema: FactSchema, index: int, fact: Mapping[str, Scalar]) -> dict[str, Any]:
    """``fact`` checked against ``schema`` (one declared type per attribute, so that ``123`` is
    never compared with ``"123"``), its numbers as :func:`engine_number` writes them."""
    kind = fact.get("t")
    attributes = schema.get(kind) if isinstance(kind, str) else None
    if attributes is None:
        raise TypeError(f"fact {index}: unknown fact type {kind!r}")
    encoded: dict[str, Any] = {"t": kind}
    for name, value in fact.items():
        if name == "t":
            continue
        expected = attributes.get(name)
        if expected is None:
            raise TypeError(f"fact {index} ({kind}): unknown attribute {name!r}")
        if type(value) is not expected:
            raise TypeError(
                f"fact {index} ({kind}): {name} must be {expected.__name__}, "
                f"got {type(value).__name__}"
            )
        reason = refusal(value)
        if reason is not None:
            raise FactRefused(f"fact {index} ({kind}): {name} value {reason}")
        if expected is float:
            value = orjson.Fragment(engine_number(value))
        encoded[name] = value
    return encoded
