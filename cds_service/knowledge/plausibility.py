"""The values a measurement or a dose can take in a living patient (knowledge/plausibility.yaml).

A value outside its range is a data error ("-1000 mg/m2", "1.2e12 cm"), not a patient: it is
read as unreadable with the range it breaks, and no threshold or dose formula ever uses it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..protocol.yamlfile import RuleFileError, YamlMap
from .schemaparts import KNOWLEDGE_META, closed, document, mapping

_BOUNDS = ("above", "at_least", "below", "at_most")


@dataclass(frozen=True)
class Range:
    above: float | None = None
    at_least: float | None = None
    below: float | None = None
    at_most: float | None = None

    def _bounds(self) -> tuple[float | None, ...]:
        return self.above, self.at_least, self.below, self.at_most

    def problem(self, value: float, unit: str | None) -> str | None:
        """Why ``value`` cannot be a real one, or None when it is inside the range."""
        inside = (
            (self.above is None or value > self.above)
            and (self.at_least is None or value >= self.at_least)
            and (self.below is None or value < self.below)
            and (self.at_most is None or value <= self.at_most)
        )
        if inside:
            return None
        said = " and ".join(
            f"{name.replace('_', ' ')} {bound:g}"
            for name, bound in zip(_BOUNDS, self._bounds(), strict=True)
            if bound is not None
        )
        shown = f"{value:g} {unit}" if unit else f"{value:g}"
        return f"{shown}: implausible (must be {said})"


@dataclass(frozen=True)
class Plausibility:
    findings: Mapping[str, Range]
    """Finding of knowledge/oncology.yaml -> its range, in the finding's unit."""
    doses: Mapping[str, Range]
    """Dose unit as ordered (mg/m2) -> its range; ``any`` for every other unit."""

    def finding_problem(self, finding: str, value: float, unit: str | None) -> str | None:
        limits = self.findings.get(finding)
        return limits.problem(value, unit) if limits else None

    def dose_problem(self, value: float, unit: str | None) -> str | None:
        limits = self.doses.get(unit or "") or self.doses.get("any")
        return limits.problem(value, unit) if limits else None


def load_plausibility(doc: YamlMap, path: Path, findings: Collection[str]) -> Plausibility:
    table = doc["findings"]
    for name in table:
        if name not in findings:
            message = f"findings.{name}: not a finding of knowledge/oncology.yaml"
            raise RuleFileError(path, message, table.line_of(name))
    return Plausibility(
        findings={name: _range(spec) for name, spec in table.items()},
        doses={unit: _range(spec) for unit, spec in doc["doses"].items()},
    )


def _range(spec: Mapping[str, Any]) -> Range:
    return Range(**{name: float(spec[name]) for name in _BOUNDS if name in spec})


def plausibility_schema() -> dict:
    limits = closed({name: {"type": "number"} for name in _BOUNDS}, minProperties=1)
    return document(
        "knowledge-plausibility",
        "The values a measurement or a dose can take: outside them a value is a data error.",
        closed(
            {"meta": KNOWLEDGE_META, "findings": mapping(limits), "doses": mapping(limits)},
            ["meta", "findings", "doses"],
        ),
    )
