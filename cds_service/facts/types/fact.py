"""The base of every fact: flat, typed, keeping the ids of the resources it came from."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar


@dataclass(frozen=True, kw_only=True, slots=True)
class Fact:
    kind: ClassVar[str]
    label: ClassVar[str]
    sources: tuple[str, ...] = ()

    def engine_view(self) -> dict[str, str | float]:
        """The attributes a rule can test, without empty ones (the engine counts null as set)."""
        view: dict[str, str | float] = {"t": self.kind}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name != "sources" and value is not None:
                view[item.name] = value
        return view
