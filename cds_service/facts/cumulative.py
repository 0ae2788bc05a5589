"""Cumulative dose: past doses of a drug family plus the draft order, in the reference drug.

``rules/knowledge/anthracyclines.yaml`` lists the drugs and their equivalence ratios, the dose
units, the findings the body surface area comes from and what counts as given. Each dose is
converted to mg/m2 (a mass divided by the BSA), times the number of doses, times its drug's
ratio; every step goes into the :class:`CumulativeDose` fact so that a card can show it. A dose
that cannot be converted is named in ``missing`` and the totals are left out: a check that
could not count everything says so, it never shows a total that is too low.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from fhir.resources.R4B.medicationrequest import MedicationRequest

from ..knowledge.anthracyclines import CumulativeDosing, Limit
from ..knowledge.plausibility import Plausibility
from ..knowledge.tables import Knowledge
from ..prefetch.record import PatientRecord
from ..protocol import fhir
from .dosage import Course, course, format_number
from .medications import Given, given
from .types.carefacts import PatientFact
from .types.diseasefacts import Finding, PerformedProcedure
from .types.drugfacts import ActiveMedication, CumulativeDose, DraftMedication


@dataclass(frozen=True)
class BodyArea:
    value: float | None
    basis: str | None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Counted:
    """One converted dose: its equivalent (None if it cannot be converted) and the step."""

    equivalent: float | None
    step: str
    sources: tuple[str, ...]
    per_area: float | None = None
    reason: str | None = None
    """What is missing to convert it, in a few words, for the card's summary."""


def cumulative_doses(
    record: PatientRecord,
    knowledge: Knowledge,
    orders: Sequence[DraftMedication],
    active: Sequence[ActiveMedication],
    findings: Mapping[str, Finding],
    patient: PatientFact | None = None,
    done: Sequence[PerformedProcedure] = (),
) -> Iterable[CumulativeDose]:
    table = knowledge.anthracyclines
    counted = [o for o in orders if o.ingredient in table.ratios]
    if not counted:
        return
    bsa = body_surface_area(table, findings)
    past = given(
        record, knowledge, table.drugs, table.administration_statuses, table.request_statuses
    )
    plausible = knowledge.plausibility
    priors = sorted(
        (_convert(table, bsa, item, plausible) for item in past if item.ingredient in table.ratios),
        key=lambda c: c.step,
    )
    cotherapy = _cotherapy(table, orders, active, past, done)
    age = patient.age if patient else None
    weight = findings.get(table.weight)
    for order in counted:
        course_ = _draft_course(record, order)
        total = _total(table, bsa, order, course_, priors, cotherapy, plausible)
        yield _with_limit(table, total, age, weight.number if weight else None)


def _with_limit(
    table: CumulativeDosing, total: CumulativeDose, age: float | None, weight: float | None
) -> CumulativeDose:
    """The total in the ordered drug itself, checked against that drug's own labelled limit.

    Other drugs' doses come in through the ratios (equivalent / the ordered drug's ratio), so
    a drug given alone is compared with its own label exactly. A limit in mg/kg is turned into
    mg/m2 with the patient's weight and BSA; without them the limit is "not checked".
    """
    group = "unknown" if age is None else "child" if age < table.child_below_age else "adult"
    drug_counted = total.counted / total.ratio
    drug_total = None if total.projected is None else total.projected / total.ratio
    limit = next(
        (item for item in table.limits[total.ingredient] if item.fits(age, bool(total.cotherapy))),
        None,
    )
    value, basis = _limit_value(limit, total.bsa, weight)
    basis = basis or table.no_limit.get(total.ingredient)
    if limit is None:
        status = "no labelled limit"
    elif value is None:
        status = "not checked"
    elif drug_counted > value:
        status = "above"  # what could be counted is already past it: the total can only be more
    elif drug_total is None:
        status = "incomplete"
    else:
        status = "within"
    return replace(
        total,
        age=age,
        age_group=group,
        drug_counted=_round(drug_counted),
        drug_total=None if drug_total is None else _round(drug_total),
        limit=None if value is None else _round(value),
        limit_basis=basis,
        limit_status=status,
    )


def _limit_value(
    limit: Limit | None, bsa: float | None, weight: float | None
) -> tuple[float | None, str | None]:
    if limit is None:
        return None, None
    if limit.per_area is not None:
        return limit.per_area, limit.source
    assert limit.per_kg is not None  # the schema asks for one of the two
    if not bsa or not weight:
        return None, f"{limit.source} (needs weight and BSA to check)"
    value = limit.per_kg * weight / bsa
    how = (
        f"{format_number(limit.per_kg)} mg/kg x {format_number(weight)} kg / "
        f"{format_number(bsa)} m2 = {format_number(value)} mg/m2"
    )
    return value, f"{limit.source}: {how}"


def _round(value: float) -> float:
    return round(value, 1)


def _total(
    table: CumulativeDosing,
    bsa: BodyArea,
    order: DraftMedication,
    order_course: Course,
    priors: Sequence[_Counted],
    cotherapy: str | None,
    plausible: Plausibility,
) -> CumulativeDose:
    ingredient = order.ingredient or ""
    ratio = table.ratios[ingredient]
    given_now = Given(order.order, ingredient, order.drug, course=order_course)
    this = _convert(table, bsa, given_now, plausible, "this order")
    uncounted = [c for c in [*priors, this] if c.equivalent is None]
    missing = list(dict.fromkeys(c.reason or "" for c in uncounted))
    prior_total = sum((c.equivalent or 0.0 for c in priors), 0.0)
    return CumulativeDose(
        order=order.order,
        drug=order.drug,
        ingredient=ingredient,
        equivalent_of=table.equivalent_of,
        unit=table.unit,
        ratio=ratio,
        prior_doses="; ".join(c.step for c in priors if c.equivalent is not None) or "none",
        prior_count=float(len(priors)),
        counted=prior_total + (this.equivalent or 0.0),
        ordered_dose=this.per_area,
        order_doses=order_course.doses,
        order_equivalent=this.equivalent,
        prior=None if missing else prior_total,
        projected=None if missing else prior_total + (this.equivalent or 0.0),
        bsa=bsa.value,
        bsa_basis=bsa.basis,
        cotherapy=cotherapy,
        missing="; ".join(missing) or None,
        not_counted="; ".join(c.step for c in uncounted) or None,
        sources=tuple(
            dict.fromkeys([order.order, *(s for c in priors for s in c.sources), *bsa.sources])
        ),
    )


def _draft_course(record: PatientRecord, order: DraftMedication) -> Course:
    """The draft's dose and doses; a repeating order with no count adds its next dose."""
    request = fhir.validate(record.draft_order(order.order) or {})
    assert isinstance(request, MedicationRequest)  # draft_orders() validated it already
    found = course(request.dosageInstruction)
    if found.doses is None:
        return Course(found.value, found.units, 1.0, "the next dose (no count on the order)")
    return found


def body_surface_area(table: CumulativeDosing, findings: Mapping[str, Finding]) -> BodyArea:
    """The latest BSA result, else Mosteller from the latest height and weight, else none."""
    measured = findings.get(table.bsa)
    if measured is not None and measured.number:
        when = f", {measured.date}" if measured.date else ""
        basis = f"BSA {format_number(measured.number)} m2 ({', '.join(measured.sources)}{when})"
        return BodyArea(measured.number, basis, measured.sources)
    height, weight = findings.get(table.height), findings.get(table.weight)
    if height is None or weight is None or not height.number or not weight.number:
        return BodyArea(None, None)
    if height.number < 0 or weight.number < 0:  # no area from a negative measurement
        return BodyArea(None, None)
    value = math.sqrt(height.number * weight.number / table.mosteller_divisor)
    basis = (
        f"Mosteller: sqrt(height {format_number(height.number)} cm x weight "
        f"{format_number(weight.number)} kg / {format_number(table.mosteller_divisor)}) = "
        f"{format_number(value)} m2"
    )
    return BodyArea(value, basis, (*height.sources, *weight.sources))


def _per_area(table: CumulativeDosing, bsa: BodyArea, dose: Course) -> tuple[float | None, str]:
    """One dose in the table's unit (mg/m2) and the conversion in words, or why it cannot be.

    A dose per area is used as written; a mass is divided by the BSA.
    """
    if dose.value is None:
        return None, "a stated dose"
    for unit in dose.units:
        if unit in table.per_area:
            return dose.value * table.per_area[unit], ""
    mass = next((unit for unit in dose.units if unit in table.mass), None)
    if mass is None:
        return None, f"a dose in {next(iter(table.per_area))} or {next(iter(table.mass))}"
    if not bsa.value:
        return None, "BSA (or height and weight) for doses in mg"
    value = dose.value * table.mass[mass] / bsa.value
    return value, f" / {format_number(bsa.value)} m2 = {format_number(value)} {table.unit}"


def _convert(
    table: CumulativeDosing, bsa: BodyArea, item: Given, plausible: Plausibility, label: str = ""
) -> _Counted:
    """One past dose (or the order) in the reference drug, the step in words, or why not."""
    what = " ".join(filter(None, [label or item.date, item.drug]))
    where = (item.resource,)
    dose = item.course
    if item.problem or dose is None:
        step = f"{what} ({item.resource}): {item.problem}"
        return _Counted(None, step, where, reason="a readable record of each dose")
    problem = None if dose.value is None else plausible.dose_problem(dose.value, dose.unit)
    if problem:  # a dose that cannot be real is never summed: the total is not computed
        step = f"{what} ({item.resource}): {problem}"
        return _Counted(None, step, where, reason="a plausible dose for each (plausibility.yaml)")
    per_area, how = _per_area(table, bsa, dose)
    written = f"{format_number(dose.value or 0)} {dose.unit}" if dose.value is not None else ""
    if per_area is None:
        step = f"{what} {written} ({item.resource}): needs {how}"
        return _Counted(None, step, where, reason=how)
    if dose.doses is None:
        step = f"{what} {written} ({item.resource}): {dose.doses_basis}"
        return _Counted(None, step, where, per_area, "the number of doses of each order")
    ratio = table.ratios[item.ingredient]
    equivalent = per_area * dose.doses * ratio
    count = f"{format_number(dose.doses)} dose{'s' if dose.doses != 1 else ''}"
    step = (
        f"{what} {written}{how} x {count} ({dose.doses_basis}) x ratio {format_number(ratio)} "
        f"= {format_number(equivalent)} {table.unit} ({item.resource})"
    )
    return _Counted(equivalent, step, where, per_area)


def _cotherapy(
    table: CumulativeDosing,
    orders: Sequence[DraftMedication],
    active: Sequence[ActiveMedication],
    past: Sequence[Given],
    done: Sequence[PerformedProcedure],
) -> str | None:
    """What lowers the limit: drugs on order, on file or given, and procedures done before."""
    found = [
        *(f"{o.ingredient} ({o.order}, draft)" for o in orders if o.ingredient in table.cotherapy),
        *(
            f"{a.ingredient} ({a.resource}, active)"
            for a in active
            if a.ingredient in table.cotherapy
        ),
        *(f"{g.ingredient} ({g.resource}, given)" for g in past if g.ingredient in table.cotherapy),
        *(
            f"{p.text or p.procedure} ({p.resource}{', ' + p.date if p.date else ''})"
            for p in done
            if p.procedure in table.cotherapy_procedures
        ),
    ]
    return "; ".join(found) or None
