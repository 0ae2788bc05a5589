"""Doses computed from the patient: AUC-targeted drugs by Calvert with Cockcroft-Gault.

The formulas' constants (Cockcroft-Gault's 140, 72 and 0.85; Calvert's 25; the GFR cap) and the
drugs they apply to are in ``rules/knowledge/oncology.yaml``. Each input and intermediate number
goes into the :class:`AucDose` fact, so a card can show the computation step by step; an input
not on file is named in ``missing`` and nothing is computed: a check that could not run says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from ..knowledge.oncology import AucDosing
from ..knowledge.tables import Knowledge
from ..prefetch.record import PatientRecord
from .types import AucDose, DraftMedication, Finding, PatientFact


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
    crcl = (auc.age_from - age) * kg * sex_factor / (auc.divisor * scr)
    gfr = min(crcl, auc.gfr_cap)
    calculated = target * (gfr + auc.add_to_gfr)
    maximum = target * (auc.gfr_cap + auc.add_to_gfr)
    return AucDose(
        **known,
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
