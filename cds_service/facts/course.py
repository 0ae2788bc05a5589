"""Where a draft order stands in the patient's course of that drug: the start, or later.

CPIC, DPWG and the labels reduce the *starting* dose for a poor or intermediate metabolizer and
then titrate on tolerance, so a rule that cuts a dose must know whether this is the first dose
and whether the order is already below the drug's full starting dose. Earlier doses are the
administrations and finished orders of the same drug (``treatment_history`` and
:func:`medications.given`) and its active orders; the full starting doses are data in
``knowledge/drugs.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from ..knowledge.tables import DrugTable, Knowledge
from ..prefetch.record import PatientRecord
from .dosage import format_number
from .medications import given
from .types import ActiveMedication, DraftMedication

START = "start"
START_REDUCED = "start-reduced"
START_ADJUSTED = "start-adjusted"
"""A first order below the full dose because a card of this service set it (its ``meta.tag``).

Nothing to add: the card that set it is hidden by its uuid, and an "already reduced" card
right after the prescriber accepted the reduction would be noise."""
CONTINUING = "continuing"
APPLIED_SYSTEM = "urn:oncology-pgx-cds:applied-card"
"""The tag system of an order changed by a card's suggestion (:mod:`cards.render`)."""


def with_course(
    record: PatientRecord,
    knowledge: Knowledge,
    orders: Sequence[DraftMedication],
    active: Sequence[ActiveMedication],
) -> list[DraftMedication]:
    """Each draft order with its earlier doses, its full starting dose and its course stage."""
    drugs = knowledge.drugs
    wanted = {o.ingredient for o in orders if o.ingredient}
    if not wanted:
        return list(orders)
    past = given(record, knowledge, wanted, drugs.administration_statuses, drugs.request_statuses)
    # a resource of another patient or not valid FHIR has no date: it says nothing of this course
    earlier = [p for p in past if p.problem is None or p.date is not None]
    return [_staged(drugs, order, earlier, active, _adjusted(record, order)) for order in orders]


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
) -> DraftMedication:
    if order.ingredient is None:
        return order
    before = [p for p in earlier if getattr(p, "ingredient", None) == order.ingredient]
    running = [m for m in active if m.ingredient == order.ingredient]
    count = len(before) + len(running)
    sources = [getattr(p, "resource", "") for p in before] + [m.resource for m in running]
    full = _full_dose(drugs, order)
    stage = START
    if count:
        stage = CONTINUING
    elif full is not None and order.dose_value is not None and order.dose_value < full:
        stage = START_ADJUSTED if adjusted else START_REDUCED
    return replace(
        order,
        earlier_doses=float(count),
        course_stage=stage,
        full_starting_dose=f"{format_number(full)} {order.dose_unit}" if full else None,
        percent_of_full_dose=(
            round(100 * order.dose_value / full, 1)
            if full is not None and order.dose_value is not None
            else None
        ),
        sources=tuple(dict.fromkeys([*order.sources, *sources])),
    )


def _full_dose(drugs: DrugTable, order: DraftMedication) -> float | None:
    """The drug's lowest full starting dose in the order's unit (``mg/m[2]`` reads as ``mg/m2``)."""
    doses = drugs.full_starting_doses.get(order.ingredient or "", {})
    unit = (order.dose_unit or "").replace("[", "").replace("]", "")
    return doses.get(unit)
