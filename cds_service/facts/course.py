"""Where a draft order stands in the patient's course of that drug: the start, or later.

CPIC, DPWG and the labels reduce the *starting* dose for a poor or intermediate metabolizer and
then titrate on tolerance, so a rule that cuts a dose must know whether this is the first dose
and whether the order is already below the drug's full starting dose. Earlier doses are the
administrations and finished orders of the same drug (``treatment_history`` and
:func:`medications.given`) and its active orders; the full starting doses are data in
``knowledge/drugs.yaml``. An order in mg is compared per m2 with the BSA on file (the
convention of ``knowledge/anthracyclines.yaml``: the BSA result, else Mosteller) or per kg with
the weight; without them it is "not-compared", never taken for a full dose (CPIC conditions
the mercaptopurine cut on a full starting dose).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from fhir.resources.R4B.medicationrequest import MedicationRequest

from ..knowledge.tables import DrugTable, Knowledge
from ..prefetch.record import PatientRecord
from ..protocol import fhir
from .cumulative import BodyArea, body_surface_area
from .dosage import doses_per_day, format_number
from .medications import given
from .types.diseasefacts import Finding
from .types.drugfacts import ActiveMedication, DraftMedication

START = "start"
START_REDUCED = "start-reduced"
START_ADJUSTED = "start-adjusted"
"""A first order below the full dose because a card of this service set it (its ``meta.tag``).

Nothing to add: the card that set it is hidden by its uuid, and an "already reduced" card
right after the prescriber accepted the reduction would be noise."""
CONTINUING = "continuing"
BELOW, FULL, NOT_COMPARED = "below", "full", "not-compared"
"""``full_dose_comparison``: the order against the drug's full starting dose."""
MASS = "mg"
"""The unit an order is converted from with the BSA or the weight."""
APPLIED_SYSTEM = "urn:oncology-pgx-cds:applied-card"
"""The tag system of an order changed by a card's suggestion (:mod:`cards.render`)."""


def with_course(
    record: PatientRecord,
    knowledge: Knowledge,
    orders: Sequence[DraftMedication],
    active: Sequence[ActiveMedication],
    findings: Mapping[str, Finding] | None = None,
) -> list[DraftMedication]:
    """Each draft order with its earlier doses, its full starting dose and its course stage."""
    drugs = knowledge.drugs
    body = _Body.of(knowledge, findings or {})
    wanted = {o.ingredient for o in orders if o.ingredient}
    if not wanted:
        return list(orders)
    past = given(record, knowledge, wanted, drugs.administration_statuses, drugs.request_statuses)
    # a resource of another patient or not valid FHIR has no date: it says nothing of this course
    earlier = [p for p in past if p.problem is None or p.date is not None]
    return [
        _staged(
            drugs, order, earlier, active, _adjusted(record, order), body, _daily(record, order)
        )
        for order in orders
    ]


def _daily(record: PatientRecord, order: DraftMedication) -> float | None:
    """The draft's doses a day, from its timing (draft_orders() validated it already)."""
    try:
        request = fhir.validate(record.draft_order(order.order) or {})
    except fhir.InvalidResource:
        return None
    if not isinstance(request, MedicationRequest):
        return None
    return doses_per_day(request.dosageInstruction)


def _adjusted(record: PatientRecord, order: DraftMedication) -> bool:
    resource = record.draft_order(order.order) or {}
    tags = (resource.get("meta") or {}).get("tag") or []
    return any(isinstance(t, dict) and t.get("system") == APPLIED_SYSTEM for t in tags)


def _staged(
    drugs: DrugTable,
    order: DraftMedication,
    earlier: Iterable[object],
    active: Sequence[ActiveMedication],
    adjusted: bool,
    body: _Body,
    per_day: float | None,
) -> DraftMedication:
    if order.ingredient is None:
        return order
    before = [p for p in earlier if getattr(p, "ingredient", None) == order.ingredient]
    running = [m for m in active if m.ingredient == order.ingredient]
    count = len(before) + len(running)
    sources = [getattr(p, "resource", "") for p in before] + [m.resource for m in running]
    compared = _compare(drugs, order, body, per_day)
    stage = START
    if count:
        stage = CONTINUING
    elif compared.result == BELOW:
        stage = START_ADJUSTED if adjusted else START_REDUCED
    return replace(
        order,
        earlier_doses=float(count),
        course_stage=stage,
        full_starting_dose=compared.full_text,
        percent_of_full_dose=compared.percent,
        full_dose_comparison=compared.result,
        sources=tuple(dict.fromkeys([*order.sources, *sources, *compared.sources])),
    )


@dataclass(frozen=True)
class _Body:
    """The patient's BSA and weight, for an order in mg."""

    area: BodyArea
    weight: float | None
    weight_sources: tuple[str, ...] = ()

    @classmethod
    def of(cls, knowledge: Knowledge, findings: Mapping[str, Finding]) -> _Body:
        table = knowledge.anthracyclines
        weight = findings.get(table.weight)
        usable = weight is not None and weight.number is not None and weight.number > 0
        return cls(
            body_surface_area(table, findings),
            weight.number if usable and weight else None,
            weight.sources if usable and weight else (),
        )


@dataclass(frozen=True)
class _Compared:
    result: str | None = None
    full_text: str | None = None
    percent: float | None = None
    sources: tuple[str, ...] = ()


def _compare(
    drugs: DrugTable, order: DraftMedication, body: _Body, per_day: float | None
) -> _Compared:
    """The order against the lowest full starting dose in its unit, or converted from mg.

    None for a drug with no full starting dose; ``not-compared`` for a dose that cannot be set
    against one (no dose, another unit, mg with neither BSA nor weight on file, or a daily
    threshold with one dose below it and no timing to say how many a day).
    """
    doses = drugs.full_starting_doses.get(order.ingredient or "", {})
    if not doses:
        return _Compared()
    value, unit = order.dose_value, (order.dose_unit or "").replace("[", "").replace("]", "")
    if value is None:
        return _Compared(NOT_COMPARED)
    daily = order.ingredient in drugs.daily_full_doses
    if unit in doses:
        return _against(value, doses[unit], unit, "", daily, per_day)
    if unit != MASS:
        return _Compared(NOT_COMPARED)
    for per, size, basis, sources in (
        ("mg/m2", body.area.value, body.area.basis, body.area.sources),
        ("mg/kg", body.weight, ", ".join(body.weight_sources), body.weight_sources),
    ):
        if per in doses and size is not None and size > 0:  # no area or weight of 0 or less
            converted = value / size
            how = (
                f"the order {format_number(value)} mg / {format_number(size)} {per[3:]} = "
                f"{format_number(converted)} {per}; {basis}"
            )
            found = _against(converted, doses[per], per, how, daily, per_day)
            return replace(found, sources=sources)
    return _Compared(NOT_COMPARED)


def _against(
    value: float, full: float, unit: str, how: str, daily: bool, per_day: float | None
) -> _Compared:
    """One dose (times its doses a day, for a daily threshold) against the full dose."""
    steps = [how] if how else []
    if daily and per_day is not None and per_day != 1:
        value = value * per_day
        steps.append(f"x {format_number(per_day)} doses a day = {format_number(value)} {unit}/day")
    elif daily and per_day is None and value < full:
        return _Compared(NOT_COMPARED)  # below as one dose, but how many a day is not said
    shown = f"{format_number(full)} {unit}{'/day' if daily else ''}"
    return _Compared(
        BELOW if value < full else FULL,
        f"{shown} ({'; '.join(steps)})" if steps else shown,
        round(100 * value / full, 1),
    )
