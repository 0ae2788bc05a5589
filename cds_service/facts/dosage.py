"""Doses and timings of MedicationRequests: read them, say them, scale them."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.dosage import Dosage
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.timing import Timing

_TIMES = {1: "once", 2: "twice", 3: "three times", 4: "four times"}
_UNITS = {"h": "hour", "d": "day", "wk": "week", "mo": "month"}
_HOURS = {"s": 1 / 3600, "min": 1 / 60, "h": 1, "d": 24, "wk": 168}
"""UCUM time units with a fixed length, in hours (a month or a year has none)."""


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


@dataclass(frozen=True)
class Course:
    """The dose of an order or administration and how many times it is (or was) given."""

    value: float | None
    units: tuple[str, ...]
    """The quantity's UCUM code and its unit as written, either of which may be read."""
    doses: float | None
    doses_basis: str

    @property
    def unit(self) -> str | None:
        return self.units[-1] if self.units else None


def course(dosages: Sequence[Dosage] | None) -> Course:
    """The first stated dose quantity and the number of doses of its timing (:func:`doses_in`)."""
    for dosage in dosages or ():
        for dose_and_rate in dosage.doseAndRate or ():
            quantity = dose_and_rate.doseQuantity
            if quantity is not None and quantity.value is not None:
                doses, basis = doses_in(dosage.timing)
                return Course(float(quantity.value), quantity_units(quantity), doses, basis)
    return Course(None, (), None, "no dose stated")


def quantity_units(quantity: Quantity) -> tuple[str, ...]:
    return tuple(dict.fromkeys(u for u in (quantity.code, quantity.unit) if u))


def doses_in(timing: Timing | None) -> tuple[float | None, str]:
    """How many administrations a timing stands for, and how that was read.

    ``repeat.count``; else ``frequency`` x the periods in ``repeat.boundsDuration``, rounded up
    (the first dose falls on day 1); else the ``event`` dates; a timing with neither ``repeat``
    nor ``code`` is one dose. Any other timing gives None: the number is not stated.
    """
    if timing is None:
        return 1.0, "one dose (no timing)"
    repeat = timing.repeat
    if repeat is not None and repeat.count:
        return float(repeat.count), f"repeat.count {repeat.count}"
    if repeat is not None and repeat.boundsDuration is not None and repeat.period:
        duration = repeat.boundsDuration
        length = _hours(duration.value, duration.code or duration.unit)
        period = _hours(repeat.period, repeat.periodUnit)
        if length is not None and period:
            frequency = repeat.frequency or 1
            periods = math.ceil(round(length / period, 6))
            said = f"{format_number(float(duration.value))} {duration.code or duration.unit}"
            return float(frequency * periods), f"{frequency} x {periods} periods in {said}"
    if timing.event:
        return float(len(timing.event)), f"{len(timing.event)} event dates"
    if repeat is None and timing.code is None:
        return 1.0, "one dose (the timing does not repeat)"
    return None, "the number of doses is not stated"


def doses_per_day(dosages: Sequence[Dosage] | None) -> float | None:
    """How many doses a day the first dosage's ``repeat`` gives (2 for twice daily), or None.

    A daily threshold (mercaptopurine, CPIC mg/m2/day) needs it; None when the timing does not
    say (no repeat, or a period without a fixed length).
    """
    timing = dosages[0].timing if dosages else None
    repeat = timing.repeat if timing is not None else None
    if repeat is None or not repeat.period:
        return None
    hours = _hours(repeat.period, repeat.periodUnit)
    return (repeat.frequency or 1) * 24 / hours if hours else None


def _hours(value: Any, unit: str | None) -> float | None:
    if value is None or unit not in _HOURS:
        return None
    return float(value) * _HOURS[unit]


def format_number(value: float) -> str:
    """``500`` not ``500.0``; at most two decimals; 1e7 and beyond as ``1.23e+12``.

    A card summary has room for about eight characters per number (``NUMBER_MAX``): an absurd
    value from the record must not push it past 140 characters.
    """
    if abs(value) >= 1e7:
        return f"{value:.3g}"
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
    """A whole number as an int only while exact: JSON numbers past 2**53 stay floats (an int past
    64 bits cannot even be written by the response's encoder)."""
    rounded = round(value, 2)
    return int(rounded) if abs(rounded) < 2**53 and rounded == int(rounded) else rounded
