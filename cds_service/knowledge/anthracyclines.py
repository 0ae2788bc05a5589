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
class Limit:
    """One labelled lifetime limit of a drug, and for whom it holds.

    ``per_area`` is in the table's unit (mg/m2); ``per_kg`` (mg/kg) is for the youngest children,
    where a label states its limit by weight. The first limit of a drug whose age range and
    co-therapy condition fit the patient is the one checked.
    """

    per_area: float | None
    per_kg: float | None
    age_below: float | None
    age_at_least: float | None
    cotherapy: bool | None
    """True: only with co-therapy; False: only without; None: either way."""
    source: str

    def fits(self, age: float | None, cotherapy: bool) -> bool:
        """Whether this limit is the patient's: an age range needs a known age."""
        if self.cotherapy is not None and self.cotherapy != cotherapy:
            return False
        if self.age_below is None and self.age_at_least is None:
            return True
        if age is None:
            return False
        return (self.age_below is None or age < self.age_below) and (
            self.age_at_least is None or age >= self.age_at_least
        )


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
    cotherapy_procedures: frozenset[str]
    """Procedures of knowledge/procedures.yaml (chest radiotherapy) that count as co-therapy."""
    limits: Mapping[str, tuple[Limit, ...]]
    """Ingredient -> its labelled lifetime limits, most specific first (none: no labelled cap)."""
    no_limit: Mapping[str, str]
    """Ingredient with no labelled cap -> what its label says instead, for the cards."""
    child_below_age: float
    """Below this age a patient is a child for the cards (age_group)."""

    @property
    def drugs(self) -> frozenset[str]:
        """Every ingredient whose past use the facts need: the counted drugs and co-therapy."""
        return frozenset(self.ratios) | self.cotherapy


def load_cumulative(
    doc: YamlMap,
    path: Path,
    ingredients: frozenset[str],
    findings: Mapping[str, FindingSpec],
    procedures: frozenset[str],
) -> CumulativeDosing:
    for key in ("drugs", "cotherapy"):
        unknown = sorted(set(doc[key]) - ingredients)
        if unknown:
            message = f"{key}: {unknown[0]!r} is not an ingredient of knowledge/drugs.yaml"
            raise RuleFileError(path, message, doc.line_of(key))
    unknown = sorted(set(doc["cotherapy_procedures"]) - procedures)
    if unknown:
        message = f"cotherapy_procedures: {unknown[0]!r} is not a procedure of procedures.yaml"
        raise RuleFileError(path, message, doc.line_of("cotherapy_procedures"))
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
        cotherapy_procedures=frozenset(doc["cotherapy_procedures"]),
        limits={
            drug: tuple(_limit(limit) for limit in entry.get("limits") or ())
            for drug, entry in doc["drugs"].items()
        },
        no_limit={
            drug: entry["no_limit"] for drug, entry in doc["drugs"].items() if "no_limit" in entry
        },
        child_below_age=float(doc["child_below_age"]),
    )


def _limit(entry: YamlMap) -> Limit:
    def number(key: str) -> float | None:
        return float(entry[key]) if key in entry else None

    return Limit(
        per_area=number("mg_m2"),
        per_kg=number("mg_kg"),
        age_below=number("age_below"),
        age_at_least=number("age_at_least"),
        cotherapy=entry.get("cotherapy"),
        source=entry["source"],
    )
