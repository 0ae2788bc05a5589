"""The engine boundary made total: a fact the engine cannot take becomes a data-quality note.

Sending it would either be refused (:class:`~.durable.FactRefused`) or, worse, compared as
something else; dropping it would make every check that needs it silently pass. So such a fact
is replaced by an :class:`~..facts.Unreadable` about the resource it came from, which the
data-quality rules (and the rules of the gene or finding it names) turn into a card saying the
check could not run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from functools import cache

from ..facts import ORDER_FACTS, Fact, Unreadable, schema
from .encoding import refusal

_NAMED = tuple(f.name for f in fields(Unreadable) if f.default is None)
"""The optional attributes of an Unreadable (gene, ingredient, finding, ...) a fact can pass on."""


def admit(found: Iterable[Fact]) -> list[Fact]:
    """``found`` with each fact the engine cannot take replaced by an Unreadable about it."""
    return [_note(fact, reason) if (reason := _refused(fact)) else fact for fact in found]


def _refused(fact: Fact) -> str | None:
    for name in _attributes(fact.kind):
        reason = refusal(getattr(fact, name))
        if reason is not None:
            return f"{fact.label}: {name.replace('_', ' ')} {reason}; no check can use it"
    return None


def _note(fact: Fact, reason: str) -> Unreadable:
    """The note, with what it passes on from ``fact`` that the engine can take itself."""
    candidates = [*fact.sources[:1], getattr(fact, "order", None), fact.label]
    resource = next(c for c in candidates if isinstance(c, str) and refusal(c) is None)
    named = {name: getattr(fact, name, None) for name in _NAMED}
    return Unreadable(
        resource=resource,
        resource_type=resource.partition("/")[0],
        reason=reason,
        role="draft_order" if isinstance(fact, ORDER_FACTS) else "record",
        sources=fact.sources,
        **{k: v for k, v in named.items() if isinstance(v, str) and refusal(v) is None},
    )


@cache
def _attributes(kind: str) -> tuple[str, ...]:
    """The attributes of a fact type the engine is sent."""
    return tuple(schema()[kind])
