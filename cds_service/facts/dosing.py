"""Doses computed from the patient: AUC-targeted drugs by Calvert with Cockcroft-Gault.

The formulas' constants (Cockcroft-Gault's 140, 72 and 0.85; Calvert's 25; the GFR cap) and the
drugs they apply to are in ``rules/knowledge/oncology.yaml``. Each input and intermediate number
goes into the :class:`AucDose` fact, so a card can show the computation step by step; an input
not on file is named in ``missing`` and nothing is computed: a check that could not run says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..knowledge.oncology import AucDosing
from ..knowledge.tables import Knowledge
from ..prefetch.record import PatientRecord
from .dosage import format_number
from .types.carefacts import PatientFact
from .types.diseasefacts import Finding
from .types.drugfacts import AucDose, DraftMedication

_SAME_DOSE = 0.05
"""Doses (in the table's dose unit) closer than this are one dose: floating-point noise between
two conventions, not a second dose to name on the card."""


def auc_doses(
    record: PatientRecord,
    knowledge: Knowledge,
    orders: Sequence[DraftMedication],
    patient: PatientFact | None,
    findings: Mapping[str, Finding],
) -> Iterable[AucDose]:
    auc = knowledge.oncology.auc
    for order in orders:
        if order.ingredient not in auc.drugs:
            continue
        resource = record.draft_order(order.order) or {}
        target, ordered = _auc_and_dose(resource, auc)
        if ordered is not None and knowledge.plausibility.dose_problem(ordered, auc.dose_unit):
            ordered = None  # said on the order's data-quality card; never compared
        yield _check(order, auc, target, ordered, patient, findings)


def _check(
    order: DraftMedication,
    auc: AucDosing,
    target: float | None,
    ordered: float | None,
    patient: PatientFact | None,
    findings: Mapping[str, Finding],
) -> AucDose:
    creatinine = findings.get(auc.creatinine)
    weight = findings.get(auc.weight)
    age = patient.age if patient else None
    sex = patient.sex if patient else None
    scr = creatinine.number if creatinine else None
    kg = weight.number if weight else None
    sources = tuple(
        dict.fromkeys(
            [order.order, *(f.sources[0] for f in (weight, creatinine) if f and f.sources)]
        )
    )
    known: dict[str, Any] = {
        "order": order.order,
        "drug": order.drug,
        "ingredient": order.ingredient or "",
        "target_auc": target,
        "ordered_dose": ordered,
        "age": age,
        "sex": sex,
        "weight": kg,
        "creatinine": scr,
        "sources": sources,
    }
    missing = _missing(auc, target=target, ordered=ordered, age=age, sex=sex, kg=kg, scr=scr)
    if missing:
        return AucDose(missing=missing, **known)
    sex_factor = auc.sex_factors[sex]  # every input is usable from here: _missing said so
    height = findings.get(auc.nccn.height)
    ways = [
        _inputs(auc, way, sex, kg, scr, height.number if height else None)
        for way in sorted(auc.conventions)
    ]
    doses = [
        (way, target * (min(_crcl(auc, age, sex_factor, way), auc.gfr_cap) + auc.add_to_gfr))
        for way in ways
    ]
    (used, calculated), *others = sorted(doses, key=lambda d: abs(ordered - d[1]))
    crcl = _crcl(auc, age, sex_factor, used)
    gfr = min(crcl, auc.gfr_cap)
    maximum = target * (auc.gfr_cap + auc.add_to_gfr)
    other = next((o for o in others if abs(o[1] - calculated) > _SAME_DOSE), None)
    return AucDose(
        **{**known, "weight": used.kg, "creatinine": used.scr},
        actual_weight=kg,
        measured_creatinine=scr,
        convention=used.name,
        weight_basis=used.weight_basis,
        creatinine_basis=used.creatinine_basis,
        other_dose=other[1] if other else None,
        other_basis=_other(other, calculated),
        sex_factor=sex_factor,
        age_from=auc.age_from,
        divisor=auc.divisor,
        crcl=crcl,
        gfr_cap=auc.gfr_cap,
        gfr=gfr,
        add_to_gfr=auc.add_to_gfr,
        calculated_dose=calculated,
        max_dose=maximum,
        deviation=abs(ordered - calculated) / calculated * 100,
        direction="above" if ordered > calculated else "below",
        excess_over_max=ordered - maximum,
    )


@dataclass(frozen=True)
class _Way:
    """One way of computing the dose: the weight and creatinine it uses, and why, in words."""

    name: str
    kg: float
    scr: float
    weight_basis: str
    creatinine_basis: str


def _other(other: tuple[_Way, float] | None, calculated: float) -> str:
    """The other accepted way's dose, in words, or that it gives the same dose or is not used."""
    if other is None:
        return f"none differs ({format_number(round(calculated))} mg either way)"
    way, dose = other
    return (
        f"{way.name}, {way.weight_basis}, {way.creatinine_basis}: {format_number(round(dose))} mg"
    )


def _crcl(auc: AucDosing, age: float, sex_factor: float, way: _Way) -> float:
    return (auc.age_from - age) * way.kg * sex_factor / (auc.divisor * way.scr)


def _inputs(
    auc: AucDosing, way: str, sex: str, kg: float, scr: float, height: float | None
) -> _Way:
    """Actual weight and measured creatinine, or NCCN Appendix B's adjustments."""
    if way == "actual":
        return _Way("actual", kg, scr, "actual body weight", "creatinine as measured")
    nccn = auc.nccn
    floor = max(scr, nccn.creatinine_floor)
    creatinine = (
        f"creatinine {format_number(scr)} raised to the floor of "
        f"{format_number(nccn.creatinine_floor)} mg/dL"
        if scr < nccn.creatinine_floor
        else "creatinine as measured"
    )
    if not height or sex not in nccn.ibw_base:
        return _Way("NCCN", kg, floor, "actual body weight (no height for a BMI)", creatinine)
    bmi = kg / (height / 100) ** 2
    if bmi < nccn.adjusted_from_bmi:
        return _Way("NCCN", kg, floor, f"actual body weight (BMI {bmi:.1f})", creatinine)
    inches = height / nccn.cm_per_inch
    ibw = nccn.ibw_base[sex] + nccn.ibw_per_inch * max(inches - nccn.ibw_base_inches, 0)
    adjusted = ibw + nccn.adjusted_fraction * (kg - ibw)
    weight = (
        f"adjusted body weight (BMI {bmi:.1f}): IBW {format_number(ibw)} + "
        f"{format_number(nccn.adjusted_fraction)} x ({format_number(kg)} - {format_number(ibw)})"
        f" = {format_number(adjusted)} kg"
    )
    return _Way("NCCN", adjusted, floor, weight, creatinine)


def _missing(
    auc: AucDosing,
    *,
    target: float | None,
    ordered: float | None,
    age: float | None,
    sex: str | None,
    kg: float | None,
    scr: float | None,
) -> str:
    """The inputs the formulas cannot use, by name; a zero or negative number is not usable."""
    usable = {
        "target AUC": target is not None and target > 0,
        f"dose in {auc.dose_unit}": ordered is not None and ordered > 0,
        "age": age is not None and age >= 0,
        f"sex ({' or '.join(auc.sex_factors)})": sex in auc.sex_factors,
        auc.weight: kg is not None and kg > 0,
        auc.creatinine: scr is not None and scr > 0,
    }
    return ", ".join(name for name, ok in usable.items() if not ok)


def _auc_and_dose(order: Mapping[str, Any], auc: AucDosing) -> tuple[float | None, float | None]:
    """The target AUC (a dose quantity in an AUC unit, else stated in the text) and the dose."""
    target = ordered = None
    texts: list[str] = []
    for dosage in _dicts(order.get("dosageInstruction")):
        texts += [t for t in (dosage.get("text"), dosage.get("patientInstruction")) if t]
        for dose_and_rate in _dicts(dosage.get("doseAndRate")):
            quantity = dose_and_rate.get("doseQuantity")
            if not isinstance(quantity, Mapping) or not isinstance(
                quantity.get("value"), int | float
            ):
                continue
            units = {quantity.get("code"), quantity.get("unit")}
            if target is None and units & auc.auc_units:
                target = float(quantity["value"])
            elif ordered is None and auc.dose_unit in units:
                ordered = float(quantity["value"])
    texts += [n["text"] for n in _dicts(order.get("note")) if isinstance(n.get("text"), str)]
    if target is None:
        target = next(_stated(texts, auc), None)
    return target, ordered


def _stated(texts: Iterable[str], auc: AucDosing) -> Iterator[float]:
    for text in texts:
        for pattern in auc.auc_patterns:
            match = pattern.search(text)
            if match:
                yield float(match.group(1))


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value or () if isinstance(item, Mapping)]
