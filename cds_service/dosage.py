"""Doses and timings of MedicationRequests: read them, say them, scale them."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from fhir.resources.R4B.dosage import Dosage

_TIMES = {1: "once", 2: "twice", 3: "three times", 4: "four times"}
_UNITS = {"h": "hour", "d": "day", "wk": "week", "mo": "month"}


def dose_quantity(dosages: Sequence[Dosage] | None) -> tuple[float | None, str | None]:
    """The first stated dose quantity, as a number and its unit."""
    for dosage in dosages or ():
        for dose_and_rate in dosage.doseAndRate or ():
            quantity = dose_and_rate.doseQuantity
            if quantity is not None and quantity.value is not None:
                return float(quantity.value), quantity.unit or quantity.code
    return None, None


def describe_timing(dosages: Sequence[Dosage] | None) -> str | None:
    """``twice daily``, ``every 14 days``: the first timing, in words."""
    for dosage in dosages or ():
        timing = dosage.timing
        if timing is None:
            continue
        repeat = timing.repeat
        if repeat is not None and repeat.frequency and repeat.period and repeat.periodUnit:
            return _say(int(repeat.frequency), float(repeat.period), repeat.periodUnit)
        if timing.code is not None and timing.code.text:
            return timing.code.text
    return None


def _say(frequency: int, period: float, unit: str) -> str:
    name = _UNITS.get(unit, unit)
    if period == 1:
        adverb = {"day": "daily", "week": "weekly", "month": "monthly", "hour": "hourly"}.get(name)
        times = _TIMES.get(frequency, f"{frequency} times")
        return f"{times} {adverb}" if adverb else f"{times} every {name}"
    every = f"every {format_number(period)} {name}s"
    return every if frequency == 1 else f"{_TIMES.get(frequency, f'{frequency} times')} {every}"


def format_number(value: float) -> str:
    """``500`` not ``500.0``; at most two decimals."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text != "-0" else "0"


def scaled_order(resource: Mapping[str, Any], factor: float, note: str) -> dict[str, Any]:
    """A copy of a MedicationRequest with every dose quantity multiplied by ``factor``.

    The dosage text is replaced by ``note``: a text that still said the old dose would
    contradict the new quantity.
    """
    order = copy.deepcopy(dict(resource))
    for dosage in order.get("dosageInstruction") or []:
        for dose_and_rate in dosage.get("doseAndRate") or []:
            quantity = dose_and_rate.get("doseQuantity")
            if isinstance(quantity, dict) and isinstance(quantity.get("value"), int | float):
                quantity["value"] = _round(quantity["value"] * factor)
        if "text" in dosage:
            dosage["text"] = note
    return order


def _round(value: float) -> float | int:
    rounded = round(value, 2)
    return int(rounded) if rounded == int(rounded) else rounded
