"""The cumulative-dose table of ``rules/knowledge/anthracyclines.yaml``.

The table says which drugs count toward one cumulative dose, each drug's equivalence ratio, how
dose units read, which findings give the body surface area, and which administration and order
statuses count; this module only gives it types and checks it against the other tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..protocol.yamlfile import RuleFileError, YamlMap
from .oncology import FindingSpec

_MOSTELLER_UNITS = {"finding": "m2", "height": "cm", "weight": "kg"}
"""Mosteller's formula takes centimetres and kilograms and gives square metres."""


@dataclass(frozen=True)
class CumulativeDosing:
    equivalent_of: str
    unit: str
    ratios: Mapping[str, float]
    """Ingredient -> the factor that turns its dose into the reference drug's."""
    per_area: Mapping[str, float]
    """Dose unit -> factor to ``unit`` (mg/m2)."""
    mass: Mapping[str, float]
    """Dose unit -> factor to mg, to be divided by the body surface area."""
    bsa: str
    height: str
    weight: str
    mosteller_divisor: float
    administration_statuses: frozenset[str]
    request_statuses: frozenset[str]
    cotherapy: frozenset[str]

    @property
    def drugs(self) -> frozenset[str]:
        """Every ingredient whose past use the facts need: the counted drugs and co-therapy."""
        return frozenset(self.ratios) | self.cotherapy


def load_cumulative(
    doc: YamlMap, path: Path, ingredients: frozenset[str], findings: Mapping[str, FindingSpec]
) -> CumulativeDosing:
    for key in ("drugs", "cotherapy"):
        unknown = sorted(set(doc[key]) - ingredients)
        if unknown:
            message = f"{key}: {unknown[0]!r} is not an ingredient of knowledge/drugs.yaml"
            raise RuleFileError(path, message, doc.line_of(key))
    if doc["equivalent_of"] not in doc["drugs"]:
        message = f"equivalent_of: {doc['equivalent_of']!r} is not one of the drugs listed"
        raise RuleFileError(path, message, doc.line_of("equivalent_of"))
    bsa = doc["bsa"]
    for key, unit in _MOSTELLER_UNITS.items():
        spec = findings.get(bsa[key])
        if spec is None or spec.unit != unit:
            message = (
                f"bsa.{key}: {bsa[key]!r} must be a finding of knowledge/oncology.yaml in {unit}"
            )
            raise RuleFileError(path, message, bsa.line_of(key))
    units = doc["dose_units"]
    return CumulativeDosing(
        equivalent_of=doc["equivalent_of"],
        unit=doc["unit"],
        ratios={drug: float(entry["ratio"]) for drug, entry in doc["drugs"].items()},
        per_area={str(k): float(v) for k, v in units["per_area"].items()},
        mass={str(k): float(v) for k, v in units["mass"].items()},
        bsa=bsa["finding"],
        height=bsa["height"],
        weight=bsa["weight"],
        mosteller_divisor=float(bsa["mosteller_divisor"]),
        administration_statuses=frozenset(doc["administration_statuses"]),
        request_statuses=frozenset(doc["request_statuses"]),
        cotherapy=frozenset(doc["cotherapy"]),
    )
