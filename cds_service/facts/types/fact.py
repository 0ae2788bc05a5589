"""The base of every fact: flat, typed, keeping the ids of the resources it came from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import cache
from operator import attrgetter
from typing import Any, ClassVar


@dataclass(frozen=True, kw_only=True, slots=True)
class Fact:
    kind: ClassVar[str]
    label: ClassVar[str]
    sources: tuple[str, ...] = ()

    def engine_view(self) -> dict[str, str | float]:
        """The attributes a rule can test, without empty ones (the engine counts null as set)."""
        view: dict[str, str | float] = {"t": self.kind}
        for name in field_names(type(self)):
            value = getattr(self, name)
            if name != "sources" and value is not None:
                view[name] = value
        return view

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its type and its fields' values, as a record's facts are kept
        (``kept.py``): the state dataclasses give a slotted class asks ``fields`` of each fact
        to pickle it and again to unpickle it, half of what pickling a record's facts cost."""
        fact_type = type(self)
        return (_rebuilt, (fact_type, _values(fact_type)(self)))


@cache
def field_names(fact_type: type[Fact]) -> tuple[str, ...]:
    """The names of a fact type's fields, in order. ``dataclasses.fields`` makes them anew at
    each call, and a first call reads each of its facts field by field for the engine, for its
    cards and to keep them."""
    return tuple(item.name for item in fields(fact_type))


@cache
def _values(fact_type: type[Fact]) -> Callable[[Fact], tuple[Any, ...]]:
    names = field_names(fact_type)
    return attrgetter(*names) if len(names) > 1 else lambda fact: (getattr(fact, names[0]),)


def _rebuilt(fact_type: type[Fact], values: tuple[Any, ...]) -> Fact:
    fact = object.__new__(fact_type)
    for name, value in zip(field_names(fact_type), values, strict=True):
        object.__setattr__(fact, name, value)
    return fact
