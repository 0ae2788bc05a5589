"""Doses as a prescriber writes them: "1 tablet", and oral doses rounded to what tablets make.

A dose in a UCUM annotation (``{pill}``) is read as the drug's form in words by
:func:`facts.medications.draft_orders`; here a single one is said in the singular. A computed
dose of a drug with ``strengths`` is rounded to the nearest amount whole units can make (ties
to the lower dose, the safer side of a reduction) and said in the strengths' unit: capecitabine
1025 mg becomes 1000 mg (2 x 500 mg). An order in tablets is read as tablets of the strength
its product names.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from ..facts import DraftMedication
from ..facts.dosage import format_number
from ..knowledge.tables import DrugTable, Strengths

_MOST_UNITS = 20
"""The most tablets a single dose is made of when rounding (more is not a real dose)."""
_STRENGTH = re.compile(r"(\d+(?:\.\d+)?)\s*(mg)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Rounded:
    """A computed dose rounded to whole units: in the order's unit, in words, and its make-up."""

    amount: float
    said: str
    exact: str
    made_of: str


def unit_words(order: DraftMedication, amount: float, drugs: DrugTable) -> str:
    """The order's dose unit for ``amount``: "1 tablet", "2 tablets" (facts say the plural)."""
    made = drugs.strengths.get(order.ingredient or "")
    if made is not None and amount == 1 and order.dose_unit == made.forms:
        return made.form
    return order.dose_unit or ""


def rounded(order: DraftMedication, amount: float, drugs: DrugTable) -> Rounded | None:
    """``amount`` (in the order's unit) rounded to what the drug's strengths make, if it has any."""
    made = drugs.strengths.get(order.ingredient or "")
    if made is None or order.dose_unit is None:
        return None
    per_unit = _unit_amount(order, made)
    if per_unit is None:
        return None
    target = amount * per_unit
    best = min(_combinations(made.sizes), key=lambda c: (abs(c[0] - target), c[0], sum(c[1])))
    total, counts = best
    parts = [
        f"{n} x {format_number(size)} {made.unit}"
        for size, n in zip(made.sizes, counts, strict=True)
        if n
    ]
    exact = f"{format_number(target)} {made.unit}"
    said = f"{format_number(total)} {made.unit}"
    return Rounded(total / per_unit, said, exact, " + ".join(reversed(parts)) or "none")


def _unit_amount(order: DraftMedication, made: Strengths) -> float | None:
    """The strengths' unit in one unit of the order: 1 for mg, 500 for a 500 mg tablet."""
    unit = order.dose_unit or ""
    if unit.lower() == made.unit.lower():
        return 1.0
    if unit in (made.form, made.forms):
        found = _STRENGTH.search(order.drug)
        return float(found.group(1)) if found else None
    return None


def _combinations(sizes: tuple[float, ...]) -> list[tuple[float, tuple[int, ...]]]:
    """Every total whole units of ``sizes`` make, with how many of each (up to ``_MOST_UNITS``)."""
    found = []
    for counts in itertools.product(range(_MOST_UNITS + 1), repeat=len(sizes)):
        if 0 < sum(counts) <= _MOST_UNITS:
            found.append((sum(s * n for s, n in zip(sizes, counts, strict=True)), counts))
    return found
